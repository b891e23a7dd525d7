"""Exports that leave the kit: an AES-256 ZIP locked with the teacher's export passphrase.

A CSV of a class, a ZIP of portfolios with the children's photos, a grade sheet: once
downloaded they sit on a school PC or a USB stick, out of the kit's care. So every export is,
by default, a WinZip AES-256 ZIP (AE-2, written by `pyzipper`) that 7-Zip, WinRAR and Bandizip
open when the passphrase is typed; a plain file only by the teacher's explicit choice (the web
layer decides that). Inside the ZIP, entry names never carry a child's name (the central
directory of a ZIP is not encrypted): files are named by ids, the encrypted CSV/report says
who is who.

The passphrase is needed in clear to encrypt, so it is kept sealed with the kit's data key
(`labkit.atrest`) in `<data dir>/export-passphrase`, never in clear on the card. It is printable
ASCII: unzip programs turn non-ASCII passphrases into bytes differently, so a Chinese
passphrase could lock a file no school PC opens.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from labkit.atrest import SealBroken, sealer_for
from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _

PASSPHRASE_FILE = "export-passphrase"
MIN_LENGTH = 8
MAX_LENGTH = 64


@dataclass(frozen=True)
class ExportLock:
    """The teacher's export settings: the passphrase (None: not set yet) and whether a
    student may download their own portfolio without encryption."""

    passphrase: str | None = None
    students_plain: bool = False

    @property
    def is_set(self) -> bool:
        return bool(self.passphrase)


def _path(data_dir: str | os.PathLike[str]) -> Path:
    return Path(data_dir) / PASSPHRASE_FILE


def load(data_dir: str | os.PathLike[str]) -> ExportLock:
    """The settings saved in `data_dir` (defaults when none; a damaged file counts as none)."""
    path = _path(data_dir)
    try:
        raw = json.loads(sealer_for(data_dir).read(path))
    except FileNotFoundError:
        return ExportLock()
    except (OSError, SealBroken, ValueError):
        return ExportLock()
    passphrase = raw.get("passphrase")
    return ExportLock(passphrase=passphrase if isinstance(passphrase, str) and passphrase
                      else None, students_plain=raw.get("students_plain") is True)


def _save(data_dir: str | os.PathLike[str], lock: ExportLock) -> None:
    body = {"passphrase": lock.passphrase, "students_plain": lock.students_plain}
    sealer_for(data_dir).write(_path(data_dir), json.dumps(body).encode("utf-8"))


def check_passphrase(passphrase: str, confirm: str) -> None:
    """LabkitError unless `passphrase` is 8-64 printable ASCII characters, typed twice."""
    if passphrase != confirm:
        raise LabkitError(_("The two passphrases are not the same."),
                          fix=_("Type the same passphrase in both boxes."), code="bad_input")
    if not MIN_LENGTH <= len(passphrase) <= MAX_LENGTH:
        raise LabkitError(_("The export passphrase has 8 to 64 characters."),
                          fix=_("Choose a longer passphrase, e.g. three words and a number."),
                          code="bad_input")
    if not all(" " <= ch <= "~" for ch in passphrase):
        raise LabkitError(
            _("The export passphrase uses only English letters, digits, spaces and symbols."),
            fix=_("Unzip programs read Chinese characters in a passphrase differently, so "
                  "the file might not open. Use letters and digits."), code="bad_input")


def set_passphrase(data_dir: str | os.PathLike[str], passphrase: str, confirm: str) -> None:
    """Save a new passphrase (checked; see `check_passphrase`); later exports use it."""
    check_passphrase(passphrase, confirm)
    current = load(data_dir)
    _save(data_dir, ExportLock(passphrase=passphrase, students_plain=current.students_plain))


def set_students_plain(data_dir: str | os.PathLike[str], allowed: bool) -> None:
    """Whether students may download their own portfolio without encryption."""
    current = load(data_dir)
    _save(data_dir, ExportLock(passphrase=current.passphrase, students_plain=bool(allowed)))


def encrypted_zip(files: Mapping[str, bytes], passphrase: str) -> bytes:
    """`files` (entry name → bytes) as a WinZip AES-256 ZIP under `passphrase`."""
    import pyzipper

    if not passphrase:
        raise ValueError("an encrypted export needs a passphrase")
    buf = io.BytesIO()
    with pyzipper.AESZipFile(buf, "w", compression=pyzipper.ZIP_DEFLATED,
                             encryption=pyzipper.WZ_AES) as zf:
        zf.setpassword(passphrase.encode("ascii"))
        zf.setencryption(pyzipper.WZ_AES, nbits=256)
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def plain_zip(files: Mapping[str, bytes]) -> bytes:
    """`files` as an ordinary ZIP (the teacher's explicit choice)."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def open_encrypted_zip(data: bytes, passphrase: str) -> dict[str, bytes]:
    """Every entry of an encrypted export (RuntimeError on a wrong passphrase)."""
    import pyzipper

    with pyzipper.AESZipFile(io.BytesIO(data)) as zf:
        zf.setpassword(passphrase.encode("ascii"))
        return {name: zf.read(name) for name in zf.namelist()}
