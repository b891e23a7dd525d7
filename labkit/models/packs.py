"""Model packs: `labkit models export` / `import` — moving models between kits on a USB stick.

A pack is one plain tar file, `*.labkit-models.tar`::

    manifest.json            {"format": 1, "models": {name: entry}} for the models inside
    <name>/<file> ...        every file each entry lists, nothing else

Why so strict on import: a pack comes from a stick that went through many hands. Before a
single byte is written, every member is checked by labkit.packs.archive (relative path, no
`..`, regular files only —
no symlinks, hard links or device files — total size capped), the manifest is validated, every
file it names must be in the pack and every file in the pack must be named by it, every
sha256 must match, and every ONNX/TFLite file must pass labkit.models.vetting (self-contained,
allowed operators, loads and runs under limits in a child process). Only then are the files
written to a temp folder inside the models dir (hashed again while writing), swapped into
place by rename, and the manifest rewritten atomically — all models of the pack or none.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Iterable

from labkit.errors import Message
from labkit.models.errors import ModelError
from labkit.packs.archive import ArchiveLimits, ArchiveRefused, Member, StrictArchive
from labkit.models.vetting import PACK_LIMITS, ModelRefused, vet_model
from labkit.models.registry import (
    MANIFEST_FORMAT, MANIFEST_NAME, ModelEntry, clean_leftovers, ModelStore, manifest_text, read_manifest,
    tree_digest, write_manifest, writer_lock,
)

PACK_SUFFIX = ".labkit-models.tar"
PACK_MANIFEST = "manifest.json"
DEFAULT_MAX_BYTES = 4 * 1024 ** 3
MAX_MEMBERS = 20_000
MAX_MANIFEST_BYTES = 16 * 1024 ** 2
_CHUNK = 1 << 20


def _bad_pack(path: Path, why: str, code: str = "bad_pack") -> ModelError:
    return ModelError(f"{path.name} was not imported: {why}", code=code,
                      fix="nothing was changed; make the pack again with "
                          "'labkit models export' on a kit whose models verify")


# -- export -------------------------------------------------------------------------------------
def pack_filename(names: list[str]) -> str:
    if len(names) == 1:
        return names[0] + PACK_SUFFIX
    digest = hashlib.sha256("\n".join(sorted(names)).encode()).hexdigest()[:8]
    return f"labkit-{len(names)}-models-{digest}{PACK_SUFFIX}"


def _tarinfo(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 0            # same models -> byte-identical pack
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def export_pack(store: ModelStore, names: Iterable[str], to_dir: Path, *,
                filename: str | None = None) -> Path:
    """Write the named (verified) models and their manifest entries into one tar file."""
    names = list(dict.fromkeys(names))
    if not names:
        raise ModelError("name at least one model to export", code="bad_input",
                         fix="see 'labkit models list'")
    entries = [store.info(n) for n in names]
    bad = store.verify(names)
    if bad:
        raise ModelError("will not export damaged model(s): " + ", ".join(sorted(bad)),
                         code="model_damaged",
                         fix="run: labkit models fetch " + " ".join(sorted(bad)))
    to_dir = Path(to_dir)
    try:
        to_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"cannot write to {to_dir} ({exc.strerror})", code="bad_target",
                         fix="plug in the USB stick and check it is writable") from None
    target = to_dir / (filename or pack_filename(names))
    if not target.name.endswith(PACK_SUFFIX):
        target = target.with_name(target.name + PACK_SUFFIX)
    manifest = manifest_text({e.name: e for e in entries}).encode("utf-8")
    fd, tmp_name = tempfile.mkstemp(prefix=".export-", suffix=".tmp", dir=to_dir)
    tmp = Path(tmp_name)
    try:
        with open(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w",
                                                 format=tarfile.PAX_FORMAT) as tf:
            tf.addfile(_tarinfo(PACK_MANIFEST, len(manifest)), io.BytesIO(manifest))
            for entry in entries:
                base = store.models_dir / entry.name
                for rec in sorted(entry.files, key=lambda r: r.path):
                    with open(base / rec.path, "rb") as fh:
                        tf.addfile(_tarinfo(f"{entry.name}/{rec.path}", rec.size), fh)
            tf.close()
            raw.flush()
            os.fsync(raw.fileno())
        tmp.chmod(0o644)
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ModelError(f"could not write {target} ({exc.strerror or exc})", code="bad_target",
                         fix="check free space on the stick") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


# -- import -------------------------------------------------------------------------------------
def _refused(path: Path, exc: ArchiveRefused) -> ModelError:
    code = "pack_too_big" if exc.code == "pack_too_big" else (
        "model_hash" if exc.code == "bad_hash" else "bad_pack")
    return _bad_pack(path, _english(exc), code=code)


def _english(exc: ArchiveRefused) -> str:
    """The reader's reason in English, like the rest of this store's (untranslated) messages."""
    text = exc.message_text
    return text.render(lambda msgid: msgid) if isinstance(text, Message) else str(text)


def _open_pack(path: Path, max_bytes: int) -> StrictArchive:
    if not path.is_file():
        raise ModelError(f"{path} does not exist or is not a file", code="bad_pack",
                         fix="give the path of a .labkit-models.tar file")
    try:
        return StrictArchive(path, ArchiveLimits(max_members=MAX_MEMBERS, max_bytes=max_bytes))
    except ArchiveRefused as exc:
        raise _refused(path, exc) from None


def read_pack(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES
              ) -> tuple[dict[str, ModelEntry], dict[str, Member]]:
    """Check a pack completely without writing anything: entries and members by path."""
    path = Path(path)
    with _open_pack(path, max_bytes) as archive:
        try:
            return _check_pack(path, archive)
        except ArchiveRefused as exc:
            raise _refused(path, exc) from None


def _check_pack(path: Path, archive: StrictArchive
                ) -> tuple[dict[str, ModelEntry], dict[str, Member]]:
    members = archive.members
    if PACK_MANIFEST not in members:
        raise _bad_pack(path, f"it has no {PACK_MANIFEST}")
    if members[PACK_MANIFEST].size > MAX_MANIFEST_BYTES:
        raise _bad_pack(path, f"its {PACK_MANIFEST} is implausibly large")
    try:
        data = json.loads(archive.read(PACK_MANIFEST))
    except ValueError:
        raise _bad_pack(path, f"its {PACK_MANIFEST} is not valid JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise _bad_pack(path, f"its {PACK_MANIFEST} has no 'models' table")
    if data.get("format", MANIFEST_FORMAT) != MANIFEST_FORMAT:
        raise _bad_pack(path, f"pack format {data.get('format')!r} is not supported",
                        code="pack_version")
    entries: dict[str, ModelEntry] = {}
    for key, raw in data["models"].items():
        try:
            entry = ModelEntry.from_dict(raw, where=f"{path.name}:{PACK_MANIFEST}")
        except ModelError as exc:
            raise _bad_pack(path, exc.message, code="bad_manifest") from None
        if entry.name != key:
            raise _bad_pack(path, f"manifest key {key!r} names model {entry.name!r}",
                            code="bad_manifest")
        entries[key] = entry
    if not entries:
        raise _bad_pack(path, "its manifest lists no models")
    expected = {PACK_MANIFEST}
    for entry in entries.values():
        for rec in entry.files:
            rel = f"{entry.name}/{rec.path}"
            expected.add(rel)
            member = members.get(rel)
            if member is None:
                raise _bad_pack(path, f"its manifest names {rel} but the pack has no "
                                      "such file")
            if member.size != rec.size:
                raise _bad_pack(path, f"{rel} has {member.size} bytes, the manifest says "
                                      f"{rec.size}")
        digest = (tree_digest(entry.files) if entry.kind == "dir" else
                  next((f.sha256 for f in entry.files if f.path == entry.file), None))
        if digest != entry.sha256:
            raise _bad_pack(path, f"model {entry.name}: its file list does not match its "
                                  "sha256")
    extra = sorted(set(members) - expected)
    if extra:
        raise _bad_pack(path, "it holds files its manifest does not name: "
                              + ", ".join(extra[:5]))
    for entry in entries.values():
        for rec in entry.files:
            rel = f"{entry.name}/{rec.path}"
            if archive.sha256(rel) != rec.sha256:
                raise _bad_pack(path, f"{rel} does not match its sha256 (damaged or "
                                      "altered)", code="model_hash")
    for entry in entries.values():
        for rec in entry.files:
            kind = runnable_kind(entry, rec.path)
            if kind is None:
                continue
            rel = f"{entry.name}/{rec.path}"
            try:
                vet_model(archive.read(rel), kind, limits=PACK_LIMITS, must_run=False)
            except ModelRefused as exc:
                raise _bad_pack(path, f"{rel} was refused: {exc.message}",
                                code="bad_model") from None
    return entries, dict(members)


def runnable_kind(entry: ModelEntry, relpath: str) -> str | None:
    """'onnx' / 'tflite' for a file a runtime will load (vetted on import), else None."""
    lower = relpath.lower()
    if lower.endswith(".onnx") or (relpath == entry.file and entry.backend == "onnx"):
        return "onnx"
    if lower.endswith(".tflite") or (relpath == entry.file and entry.backend == "litert"):
        return "tflite"
    return None


def import_pack(store: ModelStore, path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES
                ) -> list[str]:
    """Verify the whole pack, then install all of its models or none. Returns their names."""
    path = Path(path)
    entries, members = read_pack(path, max_bytes=max_bytes)
    need = sum(members[f"{e.name}/{r.path}"].size for e in entries.values() for r in e.files)
    models_dir = store.models_dir
    with writer_lock(models_dir):
        clean_leftovers(models_dir)
        free = shutil.disk_usage(models_dir).free
        if need * 1.05 + (16 << 20) > free:
            raise ModelError(f"{path.name} needs {need >> 20} MB but only {free >> 20} MB are "
                             "free", code="no_space", fix="free some space, then import again")
        staging = Path(tempfile.mkdtemp(prefix=".import-", dir=models_dir))
        try:
            _write_staged(path, entries, staging, max_bytes)
            _swap_in(store, entries, staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    store.reload()
    for name in entries:
        store.unload(name)
    return sorted(entries)


def _write_staged(path: Path, entries: dict[str, ModelEntry], staging: Path,
                  max_bytes: int) -> None:
    """Write every file under staging/<name>/ through the strict reader, checking and hashing
    again as it is written (the stick could have changed since read_pack looked at it)."""
    wanted = {f"{e.name}/{r.path}": r.sha256 for e in entries.values() for r in e.files}
    with _open_pack(path, max_bytes) as archive:
        try:
            archive.extract_to(staging, wanted)
        except ArchiveRefused as exc:
            raise _bad_pack(path, _english(exc) if exc.code != "bad_hash" else
                            "a file changed while it was being imported",
                            code="model_hash" if exc.code == "bad_hash" else "bad_pack") from None
    for name in entries:
        (staging / name).mkdir(mode=0o755, exist_ok=True)


def _swap_in(store: ModelStore, entries: dict[str, ModelEntry], staging: Path) -> None:
    """Rename the staged folders into place and write the manifest; undo all on failure."""
    models_dir = store.models_dir
    old_dir = staging / ".old"
    old_dir.mkdir()
    moved: list[tuple[str, bool]] = []   # (name, had an old folder)
    try:
        for name in entries:
            target = models_dir / name
            had_old = target.exists()
            if had_old:
                target.rename(old_dir / name)
            moved.append((name, had_old))
            (staging / name).rename(target)
        current = read_manifest(models_dir / MANIFEST_NAME, strict=False)
        current.update(entries)
        write_manifest(models_dir / MANIFEST_NAME, current)
    except BaseException:
        for name, had_old in reversed(moved):
            target = models_dir / name
            if target.exists():
                shutil.rmtree(target, ignore_errors=True)
            if had_old:
                (old_dir / name).rename(target)
        raise
