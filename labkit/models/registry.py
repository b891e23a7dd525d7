"""The model manifest and the store that hands out verified model files and loaded models.

Why a manifest: a classroom kit must be able to say, for every model it runs, where it came
from (package, version, path inside the wheel), under which licence, and that the bytes on disk
are exactly the bytes that were fetched. `manifest.json` in the models dir records that; every
file is re-hashed before its first use in a process, and a file whose sha256 does not match is
refused — never run.

Layout::

    <models_dir>/manifest.json          {"format": 1, "models": {name: entry, ...}}
    <models_dir>/<name>/<file>          the model file (or directory) and any extra files
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from labkit.fsutil import atomic_write_text
from labkit.models.errors import ModelError

if TYPE_CHECKING:
    from labkit.config import Settings
    from labkit.models.runtime import Model

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
REQUIRED_FIELDS = ("name", "task", "backend", "file", "sha256", "size", "files", "licence",
                   "source")
BACKENDS = ("litert", "onnx", "opencv_cascade", "files")
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def check_relative(path: str, what: str) -> str:
    """A manifest path must stay inside its model folder: relative, no `..`, no backslash."""
    p = PurePosixPath(path)
    if (not path or p.is_absolute() or ".." in p.parts or "\\" in path or "\x00" in path
            or path.startswith("~")):
        raise ModelError(f"{what} has an unsafe path {path!r}", code="bad_manifest",
                         fix="use a pack made by 'labkit models export'")
    return str(p)


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ModelError(f"{name!r} is not a valid model name", code="bad_manifest",
                         fix="model names are lower-case letters, digits, '_', '-' and '.'")
    return name


@dataclass(frozen=True)
class FileRecord:
    """One file of a model, relative to the model's folder."""

    path: str
    sha256: str
    size: int


def tree_digest(files: Iterable[FileRecord]) -> str:
    """One sha256 for a directory model: the hash of its sorted `sha256  path` lines."""
    lines = "".join(f"{f.sha256}  {f.path}\n" for f in sorted(files, key=lambda f: f.path))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


@dataclass
class ModelEntry:
    """What the kit knows about one model (one manifest entry)."""

    name: str
    task: str
    backend: str
    file: str                     # main file or directory, relative to <models_dir>/<name>/
    sha256: str                   # of `file`; for a directory model, tree_digest of its files
    size: int                     # bytes of all files
    files: list[FileRecord]       # every file with its own sha256 (main file included)
    licence: str                  # licence text copied from the source wheel
    source: dict[str, Any]        # package, version, path inside the wheel, wheel file, builder
    licence_name: str = ""
    kind: str = "file"            # "file" or "dir"
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    normalisation: dict[str, Any] = field(default_factory=dict)
    labels: list[str] | None = None
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "manifest") -> "ModelEntry":
        if not isinstance(data, dict):
            raise ModelError(f"{where}: a model entry is not an object", code="bad_manifest",
                             fix="run 'labkit models fetch' to rebuild the manifest")
        label = data.get("name", "?")
        missing = [k for k in REQUIRED_FIELDS if k not in data or data[k] in (None, "")]
        if missing:
            raise ModelError(f"{where}: model {label!r} lacks {', '.join(missing)}",
                             code="bad_manifest",
                             fix="run 'labkit models fetch' (or re-export the pack)")
        name = check_name(data["name"])
        if data["backend"] not in BACKENDS:
            raise ModelError(f"{where}: model {name!r} has unknown backend {data['backend']!r}",
                             code="bad_manifest", fix="backend is one of " + ", ".join(BACKENDS))
        try:
            files = [FileRecord(check_relative(str(f["path"]), f"model {name}"),
                                str(f["sha256"]), int(f["size"])) for f in data["files"]]
            size = int(data["size"])
        except (KeyError, TypeError, ValueError):
            raise ModelError(f"{where}: model {name!r} has a malformed file list",
                             code="bad_manifest",
                             fix="run 'labkit models fetch' (or re-export the pack)") from None
        if not files:
            raise ModelError(f"{where}: model {name!r} lists no files", code="bad_manifest",
                             fix="run 'labkit models fetch' (or re-export the pack)")
        known = set(cls.__dataclass_fields__)
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs.update(name=name, files=files, size=size,
                      file=check_relative(str(data["file"]), f"model {name}"))
        entry = cls(**kwargs)
        if entry.kind not in ("file", "dir"):
            raise ModelError(f"{where}: model {name!r} has unknown kind {entry.kind!r}",
                             code="bad_manifest", fix="kind is 'file' or 'dir'")
        return entry

    @property
    def version(self) -> str:
        return str(self.source.get("version", ""))


@contextlib.contextmanager
def writer_lock(models_dir: Path) -> Iterator[None]:
    """One writer at a time per models dir (fetch, import), across processes.

    Readers need no lock: files are swapped in by rename and the manifest is written
    atomically, so a reader sees the old or the new state.
    """
    models_dir.mkdir(parents=True, exist_ok=True)
    with open(models_dir / ".lock", "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def clean_leftovers(models_dir: Path) -> None:
    """Remove temp folders a crash (a pulled plug) left behind. Call with writer_lock held."""
    import shutil

    for p in models_dir.glob(".*"):
        if p.is_dir() and p.name.startswith((".fetch-", ".old-", ".import-")):
            shutil.rmtree(p, ignore_errors=True)


def read_manifest(path: Path, *, strict: bool = True) -> dict[str, ModelEntry]:
    """Entries by name. `strict=False` drops broken entries (used by fetch, which rewrites)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ModelError(f"cannot read {path} ({exc.strerror})", code="bad_manifest",
                         fix="check the permissions of the models folder") from None
    try:
        data = json.loads(raw)
    except ValueError:
        if not strict:
            return {}
        raise ModelError(f"{path} is not valid JSON", code="bad_manifest",
                         fix="run 'labkit models fetch' to rebuild it") from None
    models = data.get("models") if isinstance(data, dict) else None
    if not isinstance(models, dict):
        if not strict:
            return {}
        raise ModelError(f"{path} has no 'models' table", code="bad_manifest",
                         fix="run 'labkit models fetch' to rebuild it")
    out: dict[str, ModelEntry] = {}
    for key, value in models.items():
        try:
            entry = ModelEntry.from_dict(value, where=str(path))
            if entry.name != key:
                raise ModelError(f"{path}: entry {key!r} is named {entry.name!r}",
                                 code="bad_manifest", fix="run 'labkit models fetch'")
        except ModelError:
            if strict:
                raise
            continue
        out[key] = entry
    return out


def manifest_text(entries: dict[str, ModelEntry]) -> str:
    data = {"format": MANIFEST_FORMAT,
            "models": {k: entries[k].to_dict() for k in sorted(entries)}}
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def write_manifest(path: Path, entries: dict[str, ModelEntry]) -> None:
    atomic_write_text(path, manifest_text(entries))
    path.chmod(0o644)  # the temp file behind the atomic write is 0600


# Files verified in this process: absolute path -> (size, mtime_ns, sha256). A file is hashed
# again when its size or mtime changes, so "verified once per process" cannot hide an edit.
_VERIFIED: dict[str, tuple[int, int, str]] = {}
_VERIFIED_LOCK = threading.Lock()


def _file_problem(model_dir: Path, rec: FileRecord, *, use_cache: bool) -> str | None:
    path = model_dir / rec.path
    try:
        st = path.stat()
    except FileNotFoundError:
        return f"{rec.path} is missing"
    if not path.is_file() or path.is_symlink():
        return f"{rec.path} is not a regular file"
    if st.st_size != rec.size:
        return f"{rec.path} has {st.st_size} bytes, the manifest says {rec.size}"
    key = str(path.resolve())
    cached = _VERIFIED.get(key)
    if use_cache and cached == (st.st_size, st.st_mtime_ns, rec.sha256):
        return None
    digest = sha256_file(path)
    if digest != rec.sha256:
        return f"{rec.path} does not match its recorded sha256"
    with _VERIFIED_LOCK:
        _VERIFIED[key] = (st.st_size, st.st_mtime_ns, digest)
    return None


def entry_problems(models_dir: Path, entry: ModelEntry, *, use_cache: bool = False) -> list[str]:
    """Everything wrong with one model's files on disk (empty list = good)."""
    model_dir = models_dir / entry.name
    problems = [p for rec in entry.files
                if (p := _file_problem(model_dir, rec, use_cache=use_cache))]
    if not problems:
        digest = (tree_digest(entry.files) if entry.kind == "dir"
                  else next((f.sha256 for f in entry.files if f.path == entry.file), None))
        if digest != entry.sha256:
            problems.append(f"{entry.file} is not listed with the model's recorded sha256")
    return problems


def quick_present(models_dir: Path, entry: ModelEntry) -> bool:
    """Every file exists with its recorded size (no hashing): used by `fetch --if-missing`."""
    base = models_dir / entry.name
    try:
        return all((base / f.path).stat().st_size == f.size for f in entry.files)
    except OSError:
        return False


def dir_size(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += (Path(root) / name).lstat().st_size
            except OSError:
                pass
    return total


class ModelStore:
    """The models in one folder: look up, verify, and load them (lazily, LRU-cached)."""

    def __init__(self, settings: "Settings | None" = None, *, models_dir: Path | None = None,
                 threads: int | None = None, memory_mb: int | None = None) -> None:
        if settings is None and models_dir is None:
            from labkit.config import Settings

            settings = Settings.from_env()
        self.models_dir = Path(models_dir) if models_dir is not None else settings.models_dir
        self.threads = threads or (settings.threads if settings else 2)
        budget = memory_mb or (settings.model_memory_mb if settings else 512)
        self.settings = settings
        self.manifest_path = self.models_dir / MANIFEST_NAME
        self._entries: dict[str, ModelEntry] = {}
        self._manifest_stamp: tuple[int, int] | None = None
        self._lock = threading.RLock()
        from labkit.models.runtime import ModelCache

        self._cache = ModelCache(budget * 1024 * 1024)

    # -- manifest --------------------------------------------------------------------------
    def _manifest(self) -> dict[str, ModelEntry]:
        try:
            st = self.manifest_path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._manifest_stamp:
                self._entries = read_manifest(self.manifest_path) if stamp else {}
                self._manifest_stamp = stamp
            return self._entries

    def reload(self) -> None:
        with self._lock:
            self._manifest_stamp = (-1, -1)
        self._manifest()

    def names(self, task: str | None = None) -> list[str]:
        return sorted(n for n, e in self._manifest().items() if task is None or e.task == task)

    def entries(self) -> list[ModelEntry]:
        m = self._manifest()
        return [m[n] for n in sorted(m)]

    def has(self, name: str) -> bool:
        return name in self._manifest()

    def info(self, name: str) -> ModelEntry:
        entries = self._manifest()
        if name not in entries:
            known = ", ".join(sorted(entries)) or "none yet"
            raise ModelError(f"no model named {name!r} in {self.models_dir} (have: {known})",
                             code="unknown_model",
                             fix=f"check the name, or run: labkit models fetch {name}")
        return entries[name]

    def by_task(self, task: str) -> list[ModelEntry]:
        return [e for e in self.entries() if e.task == task]

    # -- files -----------------------------------------------------------------------------
    def model_dir(self, name: str) -> Path:
        return self.models_dir / self.info(name).name

    def path(self, name: str) -> Path:
        """The verified path of a model's main file (or directory).

        Every file of the model is hashed on first use in this process (again if it changed);
        a mismatch raises ModelError and the model is never handed out.
        """
        entry = self.info(name)
        problems = entry_problems(self.models_dir, entry, use_cache=True)
        if problems:
            raise ModelError(f"model {name} is damaged and will not be used: "
                             + "; ".join(problems), code="model_damaged",
                             fix=f"run: labkit models fetch {name}  (or import its pack again)")
        return self.models_dir / entry.name / entry.file

    def file(self, name: str, relpath: str) -> Path:
        """A verified extra file of a model (e.g. the OCR recogniser's keys)."""
        entry = self.info(name)
        if relpath not in {f.path for f in entry.files}:
            raise ModelError(f"model {name} has no file {relpath!r}", code="unknown_file",
                             fix="see 'labkit models info " + name + "'")
        self.path(name)  # verifies every file of the model, this one included
        return self.models_dir / entry.name / relpath

    def verify(self, names: Iterable[str] | None = None) -> dict[str, list[str]]:
        """Re-hash every file (ignoring the per-process cache); name -> problems (bad only)."""
        bad: dict[str, list[str]] = {}
        for name in (list(names) if names is not None else self.names()):
            problems = entry_problems(self.models_dir, self.info(name), use_cache=False)
            if problems:
                bad[name] = problems
        return bad

    # -- runtime ---------------------------------------------------------------------------
    def load(self, name: str, *, threads: int | None = None) -> "Model":
        """The runtime model, loaded on first use and kept in a bounded LRU cache.

        `threads` overrides the store's thread count for this model (a model loaded with
        another count is a separate runtime object, cached under `name@<threads>t`): small
        per-frame vision models run faster on one thread than on a contended pool."""
        count = self.threads if threads is None else max(1, int(threads))
        key = name if count == self.threads else f"{name}@{count}t"
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                return cached
            from labkit.models.runtime import open_model

            entry = self.info(name)
            path = self.path(name)
            model = open_model(path, entry.backend, threads=count, name=name)
            self._cache.put(key, model)
            return model

    def loaded(self) -> list[str]:
        return self._cache.names()

    def unload(self, name: str | None = None) -> None:
        """Forget a loaded model (every thread-count variant of it), or all models."""
        if name is None:
            self._cache.clear()
            return
        for key in self._cache.names():
            if key == name or key.startswith(f"{name}@"):
                self._cache.clear(key)

    def close(self) -> None:
        self._cache.clear()
