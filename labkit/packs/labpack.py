"""Lab packs (`.labpack`): lab folders, models and media with a signed manifest.

A pack is one tar file::

    labpack.json     {"format": 1, "id", "version", "date", "min_labkit", "title",
                      "files": {"labs/...": {"sha256", "size"}, "models/...", "media/..."}}
    labpack.sig      {"key": "ed25519:<base64>", "signature": "<base64 over labpack.json>"}
    content/<path>   every file the manifest lists, nothing else

It is read only through `labkit.packs.archive.StrictArchive`. A pack installs only if its
signature is good and its key is trusted (the kit's built-in publisher key, `publisher.pub`
next to this module, plus the keys a teacher added to `<data dir>/packs/trusted/`), every file
matches its hash, nothing outside the manifest is in it, it needs no newer labkit than this
one, it is newer than the installed version, and every model in it passes the caller's `vet`
(lab packs sit below the model layer, so the caller hands in labkit.models.vetting). Only then
is it written, into a staging folder renamed to `<data dir>/packs/installed/<id>/<version>/`;
the previous version stays on disk so `rollback` can return to it, and a retired pack stays
on disk (hidden from students) because portfolios refer to its labs.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from labkit import __version__
from labkit.errors import LabkitError, Message, lazy_gettext as _
from labkit.fsutil import atomic_write_text
from labkit.packs import signing
from labkit.packs.archive import ArchiveLimits, ArchiveRefused, StrictArchive, staging_dir

SUFFIX = ".labpack"
MANIFEST = "labpack.json"
SIGNATURE = "labpack.sig"
CONTENT = "content/"
FORMAT = 1
SOURCE_FILE = "labpack.source.json"   # id, version, title, min_labkit in the folder to build
TOP_FOLDERS = ("labs", "models", "media")
MODEL_KINDS = {".onnx": "onnx", ".tflite": "tflite"}
BUILTIN_ID = "labkit-builtin"
PUBLISHER_KEY = Path(__file__).resolve().parent / "publisher.pub"
LIMITS = ArchiveLimits(max_members=20_000, max_bytes=4 * 1024 ** 3, max_ratio=200.0)
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_VERSION = re.compile(r"^\d{1,6}(\.\d{1,6}){0,3}$")

Vet = Callable[[bytes, str], None]
Progress = Callable[[str, int, int], None]     # stage, bytes done, bytes in all


class PackRefused(LabkitError):
    """A pack that will not be built, verified or installed; nothing was changed."""

    def __init__(self, message: Message, *, code: str = "bad_pack") -> None:
        super().__init__(message, fix=_("Nothing was changed; get the pack again from its "
                                        "publisher, or ask them to sign it."), code=code)


def parse_version(text: str) -> tuple[int, ...]:
    if not isinstance(text, str) or not _VERSION.match(text):
        raise PackRefused(_("%(version)s is not a version like 1.2.0.", version=repr(text)),
                          code="bad_manifest")
    return tuple(int(p) for p in text.split("."))


@dataclass(frozen=True)
class PackInfo:
    id: str
    version: str
    date: str
    min_labkit: str
    title: str
    key_id: str
    files: dict[str, dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "date": self.date,
                "min_labkit": self.min_labkit, "title": self.title, "key": self.key_id,
                "files": len(self.files)}


# -- keys ---------------------------------------------------------------------------------------
def trusted_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "packs" / "trusted"


def trusted_keys(data_dir: Path | None, *, builtin: Path = PUBLISHER_KEY) -> dict[str, Any]:
    """key id → public key: the built-in publisher key and the keys a teacher added."""
    keys: dict[str, Any] = {}
    files = [builtin] if builtin.is_file() else []
    if data_dir is not None and trusted_dir(data_dir).is_dir():
        files += sorted(trusted_dir(data_dir).glob("*.pub"))
    for path in files:
        try:
            key = signing.parse_public(path.read_text("ascii"))
        except (OSError, UnicodeDecodeError, signing.BadKey):
            continue
        keys[signing.key_id(key)] = key
    return keys


def add_trusted_key(data_dir: Path, text: str) -> str:
    """Trust one more publisher key (the line of its .pub file); returns its id."""
    try:
        key = signing.parse_public(text)
    except signing.BadKey:
        raise PackRefused(_("That is not an ed25519 public key line (ed25519:...)."),
                          code="bad_key") from None
    kid = signing.key_id(key)
    folder = trusted_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / f"{kid}.pub", signing.public_text(key) + "\n")
    return kid


# -- build --------------------------------------------------------------------------------------
def _tarinfo(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o644, 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _source_files(src: Path) -> list[Path]:
    out = []
    for top in TOP_FOLDERS:
        base = src / top
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_symlink() or not (path.is_file() or path.is_dir()):
                raise PackRefused(_("%(path)s is a link or special file; a pack holds only "
                                    "regular files.", path=str(path)), code="bad_source")
            if path.is_file() and "__pycache__" not in path.parts:
                out.append(path)
    return out


def build_pack(src: Path, key_path: Path, out_dir: Path, *, date: str | None = None) -> Path:
    """Sign the folder `src` (labpack.source.json + labs/ models/ media/) into a .labpack."""
    src = Path(src)
    try:
        meta = json.loads((src / SOURCE_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        raise PackRefused(_("%(folder)s has no readable labpack.source.json.",
                            folder=str(src)), code="bad_source") from None
    pack_id, version = meta.get("id"), meta.get("version")
    if not isinstance(pack_id, str) or not _ID.match(pack_id):
        raise PackRefused(_("The pack id %(id)s is not valid (a-z, 0-9, _ . -).",
                            id=repr(pack_id)), code="bad_manifest")
    parse_version(version)
    min_labkit = meta.get("min_labkit", __version__)
    parse_version(min_labkit)
    try:
        key = signing.load_private(Path(key_path))
    except signing.BadKey:
        raise PackRefused(_("%(path)s is not an ed25519 private key.", path=str(key_path)),
                          code="bad_key") from None
    files = {}
    paths = _source_files(src)
    if not paths:
        raise PackRefused(_("%(folder)s has nothing in labs/, models/ or media/.",
                            folder=str(src)), code="bad_source")
    for path in paths:
        rel = path.relative_to(src).as_posix()
        files[rel] = {"sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                      "size": path.stat().st_size}
    manifest = {"format": FORMAT, "id": pack_id, "version": version,
                "date": date or time.strftime("%Y-%m-%d", time.gmtime()),
                "min_labkit": min_labkit, "title": str(meta.get("title", pack_id)),
                "files": files}
    man_bytes = json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1).encode()
    sig = json.dumps({"key": signing.public_text(key.public_key()),
                      "signature": signing.sign(key, man_bytes)}).encode()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{pack_id}-{version}{SUFFIX}"
    fd, tmp = tempfile.mkstemp(prefix=".build-", dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w",
                                                      format=tarfile.PAX_FORMAT) as tf:
            tf.addfile(_tarinfo(MANIFEST, len(man_bytes)), io.BytesIO(man_bytes))
            tf.addfile(_tarinfo(SIGNATURE, len(sig)), io.BytesIO(sig))
            for path in paths:
                rel = path.relative_to(src).as_posix()
                with open(path, "rb") as fh:
                    tf.addfile(_tarinfo(CONTENT + rel, files[rel]["size"]), fh)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def build_builtin(labs_dir: Path, key_path: Path, out_dir: Path, *,
                  version: str = __version__) -> Path:
    """The kit's own labs (`labs_dir`, the package's) as the built-in pack `labkit-builtin`,
    so the signed install path is the one every kit's labs go through."""
    with tempfile.TemporaryDirectory(prefix="labkit-builtin-") as tmp:
        src = Path(tmp)
        shutil.copytree(labs_dir, src / "labs", ignore=shutil.ignore_patterns("__pycache__"))
        (src / SOURCE_FILE).write_text(json.dumps(
            {"id": BUILTIN_ID, "version": version, "min_labkit": version,
             "title": "labkit"}), "utf-8")
        return build_pack(src, key_path, out_dir)


# -- verify -------------------------------------------------------------------------------------
def _open(path: Path) -> StrictArchive:
    try:
        return StrictArchive(Path(path), LIMITS)
    except ArchiveRefused as exc:
        raise PackRefused(exc.message_text, code=exc.code) from None


def verify_pack(path: Path, keys: dict[str, Any], *, vet: Vet | None = None,
                progress: Progress | None = None) -> PackInfo:
    """Check a pack completely, writing nothing; its info if it may be installed.

    `progress(stage, done, total)` hears "signature", then "archive" with the content bytes
    hashed so far out of all of them (the long part: a pack is mostly media)."""
    with _open(path) as archive:
        try:
            return _verify(archive, keys, vet, progress or _no_progress)
        except ArchiveRefused as exc:
            raise PackRefused(exc.message_text, code=exc.code) from None


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


def _content_bytes(files: dict[str, Any]) -> int:
    return sum(int(rec.get("size") or 0) for rec in files.values() if isinstance(rec, dict))


def _verify(archive: StrictArchive, keys: dict[str, Any], vet: Vet | None,
            progress: Progress) -> PackInfo:
    members = archive.members
    progress("signature", 0, 0)
    if MANIFEST not in members or SIGNATURE not in members:
        raise PackRefused(_("The pack is not signed (it has no labpack.json or labpack.sig)."),
                          code="unsigned")
    man_bytes = archive.read(MANIFEST, max_bytes=16 << 20)
    try:
        sig = json.loads(archive.read(SIGNATURE, max_bytes=4096))
        key_text, signature = sig["key"], sig["signature"]
        key = signing.parse_public(key_text)
    except (ValueError, KeyError, TypeError, signing.BadKey):
        raise PackRefused(_("The pack's signature file is damaged."), code="unsigned") from None
    kid = signing.key_id(key)
    if kid not in keys:
        raise PackRefused(_("The pack is signed by a key this kit does not trust (%(key)s).",
                            key=kid), code="untrusted_key")
    if not signing.verify(keys[kid], man_bytes, signature):
        raise PackRefused(_("The pack's signature does not match its manifest (altered or "
                            "wrongly signed)."), code="bad_signature")
    try:
        man = json.loads(man_bytes)
        files = man["files"]
        assert man["format"] == FORMAT and isinstance(files, dict)
        info = PackInfo(str(man["id"]), man["version"], str(man["date"]), man["min_labkit"],
                        str(man.get("title", man["id"])), kid, files)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise PackRefused(_("The pack's manifest is not a labkit lab pack manifest."),
                          code="bad_manifest") from None
    if not _ID.match(info.id):
        raise PackRefused(_("The pack id %(id)s is not valid (a-z, 0-9, _ . -).",
                            id=repr(info.id)), code="bad_manifest")
    parse_version(info.version)
    if parse_version(info.min_labkit) > parse_version(__version__):
        raise PackRefused(_("The pack needs labkit %(need)s or newer; this kit has %(have)s.",
                            need=info.min_labkit, have=__version__), code="too_new")
    expected = {MANIFEST, SIGNATURE} | {CONTENT + rel for rel in files}
    extra = sorted(set(members) - expected)
    if extra:
        raise PackRefused(_("The pack holds files its manifest does not list: %(files)s.",
                            files=", ".join(extra[:5])), code="bad_manifest")
    total, hashed = _content_bytes(files), 0
    progress("archive", 0, total)
    for rel, rec in files.items():
        name = CONTENT + rel
        if rel.split("/", 1)[0] not in TOP_FOLDERS or name not in members:
            raise PackRefused(_("The pack's manifest lists %(file)s, which is not in the pack.",
                                file=rel), code="bad_manifest")
        if not isinstance(rec, dict) or members[name].size != rec.get("size"):
            raise PackRefused(_("%(file)s does not match the manifest (damaged or altered).",
                                file=rel), code="bad_hash")
        digest = hashlib.sha256()
        for chunk in archive.chunks(name):
            digest.update(chunk)
            hashed += len(chunk)
            progress("archive", hashed, total)
        if digest.hexdigest() != rec.get("sha256"):
            raise PackRefused(_("%(file)s does not match the manifest (damaged or altered).",
                                file=rel), code="bad_hash")
    if vet is not None:
        for rel in files:
            kind = MODEL_KINDS.get(Path(rel).suffix.lower())
            if kind is not None:
                vet(archive.read(CONTENT + rel), kind)
    return info


# -- install, list, retire, rollback ------------------------------------------------------------
class PackStore:
    """The packs installed in one data dir and their state (current, previous, retired)."""

    def __init__(self, data_dir: Path, *, builtin_key: Path = PUBLISHER_KEY) -> None:
        self.data_dir = Path(data_dir)
        self.root = self.data_dir / "packs"
        self.installed = self.root / "installed"
        self.state_file = self.root / "state.json"
        self.builtin_key = builtin_key

    def keys(self) -> dict[str, Any]:
        return trusted_keys(self.data_dir, builtin=self.builtin_key)

    def state(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.state_file.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_state(self, state: dict[str, dict[str, Any]]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.state_file, json.dumps(state, indent=1, sort_keys=True))

    def install(self, path: Path, *, vet: Vet | None,
                progress: Progress | None = None) -> PackInfo:
        """Verify, vet, then install all of the pack or nothing; `progress` hears the
        stages of `verify_pack`, then "installing" with the bytes written so far."""
        progress = progress or _no_progress
        info = verify_pack(path, self.keys(), vet=vet, progress=progress)
        state = self.state()
        current = state.get(info.id, {}).get("current")
        # the signed built-in may replace the package's own copy of the same version
        unsigned_copy = state.get(info.id, {}).get("origin") == "package" \
            and current == info.version
        if current is not None and not unsigned_copy \
                and parse_version(info.version) <= parse_version(current):
            raise PackRefused(_("%(id)s %(version)s is not newer than the installed "
                                "%(current)s.", id=info.id, version=info.version,
                                current=current), code="downgrade")
        target = self.installed / info.id / info.version
        staged = staging_dir(target.parent)
        try:
            with _open(path) as archive:
                try:
                    total, written = _content_bytes(info.files), [0]
                    progress("installing", 0, total)

                    def wrote(n: int) -> None:
                        written[0] += n
                        progress("installing", written[0], total)

                    archive.extract_to(staged, {CONTENT + rel: rec["sha256"]
                                                for rel, rec in info.files.items()},
                                       strip=CONTENT, on_bytes=wrote)
                except ArchiveRefused as exc:
                    raise PackRefused(exc.message_text, code=exc.code) from None
                (staged / MANIFEST).write_bytes(archive.read(MANIFEST))
                (staged / SIGNATURE).write_bytes(archive.read(SIGNATURE))
            if target.exists():          # left by an install that was cut off
                shutil.rmtree(target)
            staged.rename(target)
        finally:
            shutil.rmtree(staged, ignore_errors=True)
        entry = state.get(info.id, {})
        history = [v for v in entry.get("history", []) if v != info.version]
        state[info.id] = {"current": info.version, "history": history + [info.version],
                          "retired": False, "title": info.title, "date": info.date,
                          "key": info.key_id}
        self._write_state(state)
        return info

    def rollback(self, pack_id: str) -> str:
        """Go back to the version installed before the current one; returns it."""
        state = self.state()
        entry = state.get(pack_id)
        history = entry.get("history", []) if entry else []
        if len(history) < 2:
            raise PackRefused(_("%(id)s has no earlier version to go back to.", id=pack_id),
                              code="no_rollback")
        dropped, previous = history[-1], history[-2]
        entry["history"], entry["current"] = history[:-1], previous
        self._write_state(state)
        shutil.rmtree(self.installed / pack_id / dropped, ignore_errors=True)
        return previous

    def retire(self, pack_id: str, retired: bool = True) -> None:
        state = self.state()
        if pack_id not in state:
            raise PackRefused(_("No pack called %(id)s is installed.", id=pack_id),
                              code="unknown_pack")
        state[pack_id]["retired"] = retired
        self._write_state(state)

    def list(self) -> list[dict[str, Any]]:
        return [{"id": pid, **entry} for pid, entry in sorted(self.state().items())]

    def lab_roots(self, *, include_retired: bool = False) -> list[Path]:
        """The labs folder of every installed pack's current version (retired ones only on
        request: a portfolio may still show their labs)."""
        roots = []
        for pid, entry in sorted(self.state().items()):
            if entry.get("retired") and not include_retired:
                continue
            folder = self.installed / pid / str(entry.get("current")) / "labs"
            if folder.is_dir():
                roots.append(folder)
        return roots

    def install_from_package(self, labs_dir: Path, *, version: str = __version__
                             ) -> PackInfo | None:
        """Install the package's own labs as the built-in pack when no signed one is there.

        A release signs `labkit-builtin` with the publisher key (`build_builtin`); a kit
        without that file (a development checkout, a wheel built without the key) still runs
        its labs through the install path: copied into the pack store with a manifest of
        hashes, checked as they are copied, and marked `"origin": "package"` with no signature
        file. They are trusted for the reason the rest of labkit's code is — they ship inside
        the package; nothing is signed or pretended to be signed. Returns None when the
        installed copy already matches the package (or a signed built-in, or a retired one,
        is installed)."""
        labs_dir = Path(labs_dir)
        files: dict[str, dict[str, Any]] = {}
        for path in sorted(labs_dir.rglob("*")):
            if "__pycache__" in path.parts:
                continue
            if path.is_symlink() or not (path.is_file() or path.is_dir()):
                raise PackRefused(_("%(path)s is a link or special file; a pack holds only "
                                    "regular files.", path=str(path)), code="bad_source")
            if path.is_file():
                files["labs/" + path.relative_to(labs_dir).as_posix()] = {
                    "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                    "size": path.stat().st_size}
        fingerprint = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
        state = self.state()
        entry = state.get(BUILTIN_ID, {})
        if entry.get("retired"):
            return None
        if entry.get("current") is not None and entry.get("origin") != "package" \
                and parse_version(str(entry["current"])) >= parse_version(version):
            return None                   # the publisher's signed built-in pack is there
        if entry.get("origin") == "package" and entry.get("current") == version \
                and entry.get("fingerprint") == fingerprint:
            return None
        manifest = {"format": FORMAT, "id": BUILTIN_ID, "version": version,
                    "date": time.strftime("%Y-%m-%d", time.gmtime()), "min_labkit": version,
                    "title": "labkit", "origin": "package", "files": files}
        target = self.installed / BUILTIN_ID / version
        staged = staging_dir(target.parent)
        try:
            for rel, rec in files.items():
                out = staged / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                data = (labs_dir / rel[len("labs/"):]).read_bytes()
                if hashlib.sha256(data).hexdigest() != rec["sha256"]:
                    raise PackRefused(_("%(file)s changed while it was installed.", file=rel),
                                      code="bad_hash")
                out.write_bytes(data)
            (staged / MANIFEST).write_text(json.dumps(manifest, sort_keys=True, indent=1),
                                           "utf-8")
            if target.exists():
                shutil.rmtree(target)
            staged.rename(target)
        finally:
            shutil.rmtree(staged, ignore_errors=True)
        history = [v for v in entry.get("history", []) if v != version]
        state[BUILTIN_ID] = {"current": version, "history": history + [version],
                             "retired": False, "title": "labkit", "date": manifest["date"],
                             "key": None, "origin": "package", "fingerprint": fingerprint}
        self._write_state(state)
        return PackInfo(BUILTIN_ID, version, manifest["date"], version, "labkit", "",
                        files)

    def builtin_labs(self) -> Path | None:
        """The installed built-in pack's labs folder if it is this labkit's version."""
        entry = self.state().get(BUILTIN_ID)
        if not entry or entry.get("retired") or entry.get("current") != __version__:
            return None
        folder = self.installed / BUILTIN_ID / __version__ / "labs"
        return folder if folder.is_dir() else None


def find_packs(patterns: Iterable[str]) -> list[Path]:
    """The .labpack files on mounted drives (default pattern /media/*/*.labpack)."""
    import glob

    found: list[Path] = []
    for pattern in patterns:
        found += [Path(p) for p in sorted(glob.glob(pattern)) if p.endswith(SUFFIX)]
    return found
