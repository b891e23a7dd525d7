"""The data dir's hygiene on start: owner-only permissions, no leftovers.

Why: the data dir holds children's samples, names and the teacher's PIN hash. On a shared Pi
(one Unix account for the IT teacher, another for a guest) anything group- or world-readable
there is a leak, and a copied data dir (USB stick, `cp -r` under another umask) arrives with
loose bits. So every start tightens what is already there, not only what it creates. Temp
files that a killed atomic write left behind and folders kept "to be safe" after a delete
(`.trash`) are removed too: a deleted child's pictures must really be gone.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
# An atomic write lasts milliseconds; a temp file this old belongs to a write that died.
STALE_TEMP_SECONDS = 60.0
# Folders where older labkit versions parked deleted /learn projects and classes.
TRASH_NAMES = (".trash", "trash")
# Scratch folders of a /learn job (int8 quantisation works on a clear copy of the model); one
# older than a minute belongs to a job that died.
WORK_PREFIXES = (".int8-",)


@dataclass
class Tidy:
    """What a start-up pass changed (logged, and counted by the reliability suite)."""

    tightened: int = 0
    temp_removed: int = 0
    trash_removed: int = 0


def is_atomic_temp(name: str) -> bool:
    """A temp file from `fsutil.atomic_write_bytes` or `private_secret` (`.NAME.xxx.tmp`)."""
    return name.startswith(".") and name.endswith(".tmp") and name.count(".") >= 3


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create `path` (and parents) if needed and make it owner-only."""
    path = Path(path)
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) != DIR_MODE:
        os.chmod(path, DIR_MODE)
    return path


def tidy_data_dir(data_dir: str | os.PathLike[str], *, now: float | None = None,
                  stale_after: float = STALE_TEMP_SECONDS) -> Tidy:
    """Tighten permissions, drop stale atomic-write temp files and old trash folders.

    Symlinks are never followed or chmodded (a link could point outside the data dir).
    """
    root = private_dir(data_dir)
    now = time.time() if now is None else now
    done = Tidy()
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        for name in list(dirs):
            sub = here / name
            if sub.is_symlink():
                dirs.remove(name)
                continue
            if (name in TRASH_NAMES or name.startswith(".deleting-")
                    or (name.startswith(WORK_PREFIXES) and _older(sub, now, stale_after))) \
                    and _is_learn_trash(root, sub):
                shutil.rmtree(sub, ignore_errors=True)
                dirs.remove(name)
                done.trash_removed += 1
                continue
            done.tightened += _chmod(sub, DIR_MODE)
        for name in files:
            path = here / name
            try:
                info = path.lstat()
            except OSError:
                continue
            if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
                continue
            if is_atomic_temp(name) and now - info.st_mtime > stale_after:
                path.unlink(missing_ok=True)
                done.temp_removed += 1
                continue
            done.tightened += _chmod(path, FILE_MODE, info.st_mode)
    if done.tightened or done.temp_removed or done.trash_removed:
        log.info("data dir tidied: %d permissions tightened, %d stale temp files and %d "
                 "trash folders removed", done.tightened, done.temp_removed, done.trash_removed)
    return done


def _older(path: Path, now: float, age: float) -> bool:
    try:
        return now - path.lstat().st_mtime > age
    except OSError:
        return False


def _is_learn_trash(root: Path, folder: Path) -> bool:
    rel = folder.relative_to(root).parts
    return len(rel) >= 2 and rel[0] == "learn"


def _chmod(path: Path, mode: int, current: int | None = None) -> int:
    try:
        current = path.lstat().st_mode if current is None else current
        if stat.S_IMODE(current) & 0o077:
            os.chmod(path, stat.S_IMODE(current) & ~0o077 | (mode & 0o700))
            return 1
    except OSError as exc:
        log.warning("cannot tighten %s (%s)", path, exc.strerror)
    return 0
