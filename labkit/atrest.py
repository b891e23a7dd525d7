"""Children's files encrypted at rest: one key per kit, one format, one module.

A saved picture, a recorded sound, a hand's landmarks or a model trained on them can identify
a child; the SD card can leave the classroom (a broken kit sent away, a card copied). So every
such file is written here as a Fernet token (AES-128-CBC + HMAC-SHA256, from `cryptography`)
behind the `SEALED` marker and is decrypted only in memory. The key is the kit's data key,
`<data dir>/portfolio.key` (the name the portfolio gave it first), 0600, made atomically on
first use by `labkit.fsutil.private_secret`; a child process gets the key's *path* (never the
key on its command line) and opens it itself.

Reading is transparent: a file written before encryption existed has no marker and is returned
as it is, so a kit keeps working while `seal_in_place` (atomic: the old clear file or the new
sealed one, never half of either) re-writes its clear files on start.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Iterable

from labkit.fsutil import atomic_write_bytes, private_secret

SEALED = b"LKENC1\n"
KEY_FILE = "portfolio.key"
_KEY_LENGTH = 44       # a urlsafe-base64 Fernet key


class SealBroken(ValueError):
    """A sealed file that does not open with this kit's key (damaged, or another kit's)."""


def key_path(data_dir: str | os.PathLike[str]) -> Path:
    """Where a data dir keeps its data key."""
    return Path(data_dir) / KEY_FILE


class Sealer:
    """Seal and open files with the key at `key_path` (created on first use)."""

    def __init__(self, key_path: str | os.PathLike[str]) -> None:
        self.key_path = Path(key_path)
        self._cipher: Any = None
        self._lock = threading.Lock()

    def _fernet(self) -> Any:
        with self._lock:
            if self._cipher is None:
                from cryptography.fernet import Fernet

                key = private_secret(self.key_path,
                                     lambda: Fernet.generate_key().decode("ascii"),
                                     min_length=_KEY_LENGTH)
                self._cipher = Fernet(key.encode("ascii"))
            return self._cipher

    # ---- bytes ----------------------------------------------------------------------------
    def seal(self, data: bytes) -> bytes:
        return SEALED + self._fernet().encrypt(bytes(data))

    def open(self, stored: bytes) -> bytes:
        """The clear bytes of `stored`; bytes without the marker are returned as they are."""
        if not stored.startswith(SEALED):
            return stored
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet().decrypt(stored[len(SEALED):])
        except InvalidToken:
            raise SealBroken("the file does not open with this kit's key") from None

    # ---- files ----------------------------------------------------------------------------
    def write(self, path: str | os.PathLike[str], data: bytes) -> Path:
        """Write `data` sealed, atomically (labkit.fsutil)."""
        return atomic_write_bytes(path, self.seal(data))

    def read(self, path: str | os.PathLike[str]) -> bytes:
        """The clear bytes of a sealed (or older clear) file; OSError if it cannot be read."""
        return self.open(Path(path).read_bytes())

    def seal_in_place(self, path: str | os.PathLike[str]) -> bool:
        """Re-write a clear file sealed (True), or leave a sealed/missing one alone (False)."""
        path = Path(path)
        try:
            if is_sealed(path):
                return False
            clear = path.read_bytes()
        except OSError:
            return False
        atomic_write_bytes(path, self.seal(clear))
        return True

    def seal_all(self, paths: Iterable[Path]) -> int:
        """`seal_in_place` over `paths`; how many were clear."""
        return sum(1 for path in paths if path.is_file() and not path.is_symlink()
                   and self.seal_in_place(path))


def is_sealed(path: str | os.PathLike[str]) -> bool:
    """Whether the file starts with the marker (OSError if it cannot be opened)."""
    with open(path, "rb") as f:
        return f.read(len(SEALED)) == SEALED


_sealers: dict[Path, Sealer] = {}
_sealers_lock = threading.Lock()


def sealer_for(data_dir: str | os.PathLike[str]) -> Sealer:
    """The process's one `Sealer` for a data dir (its key is read once)."""
    path = key_path(Path(data_dir).resolve())
    with _sealers_lock:
        sealer = _sealers.get(path)
        if sealer is None:
            sealer = _sealers[path] = Sealer(path)
        return sealer
