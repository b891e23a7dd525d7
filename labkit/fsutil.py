"""Atomic file writes: a temp file in the same folder, fsync, then rename.

A power cut on a classroom Pi (students pull plugs) must leave either the old file or the new
one, never half of one. Every write of user data in labkit goes through here or through SQLite.
Also here: owner-only secret files and the server's neutral working directory.
"""

from __future__ import annotations

import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to `path` so that readers see the old or the new file, never a mix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def private_secret(path: str | os.PathLike[str], make: Callable[[], str],
                   min_length: int = 32) -> str:
    """Read a secret file, or create it readable by the owner only from its first byte.

    A new secret goes to a temp file opened with O_CREAT|O_EXCL and mode 0600 (never a moment
    with group/other bits), fsynced, then renamed into place; a damaged (too short) one is
    replaced. Creation holds a lock on the folder so processes starting at once agree on one
    secret. An existing file with looser permissions is tightened (a copied data dir may have
    lost them).
    """
    path = Path(path)
    existing = _read_secret(path, min_length)
    if existing is not None:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    with _folder_lock(path.parent):
        existing = _read_secret(path, min_length)
        if existing is not None:
            return existing
        value = make()
        # mkstemp creates the temp file 0600 with O_EXCL: private from its first byte
        atomic_write_bytes(path, value.encode("utf-8"))
        return value


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    import fcntl

    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read_secret(path: Path, min_length: int) -> str | None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, "r", encoding="utf-8", errors="replace") as f:
        if stat.S_IMODE(os.fstat(f.fileno()).st_mode) & 0o077:
            os.fchmod(f.fileno(), 0o600)
        value = f.read().strip()
    return value if len(value) >= min_length else None


def neutral_workdir(data_dir: str | os.PathLike[str]) -> Path:
    """Make `<data dir>/run` (0700) the process's working directory and return it.

    Libraries resolve relative paths against the working directory (ONNX Runtime's external
    data, lgpio's notify files); a server started from `$HOME` must not let them reach the
    data dir or anything else the user owns.
    """
    run = Path(data_dir).resolve() / "run"
    run.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(run, 0o700)
    os.chdir(run)
    return run
