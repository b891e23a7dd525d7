"""The teacher PIN: set once on first run, stored only as a slow salted hash.

scrypt (from hashlib) makes each guess cost ~16 MB of memory and tens of milliseconds, so a
copied database does not give the PIN away by brute force in seconds; the web layer also limits
how fast wrong PINs can be tried. The PIN itself is never written anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from labkit.store.db import Database
from labkit.store.problems import N_, Problem

PIN_PATTERN = re.compile(r"[0-9]{4,12}")
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
KEY = "teacher_pin"


def hash_pin(pin: str, *, salt: bytes | None = None, n: int = SCRYPT_N) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt_hex, digest_hex = stored.split("$")
        if algo != "scrypt":
            return False
        digest = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt_hex), n=int(n), r=int(r),
                                p=int(p), dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest.hex(), digest_hex)


def check_pin_format(pin: object) -> str:
    if not isinstance(pin, str) or not PIN_PATTERN.fullmatch(pin):
        raise Problem(N_("A PIN is 4 to 12 digits."), fix=N_("Type digits only, at least 4."),
                      code="bad_pin")
    return pin


class TeacherPin:
    """Whether a PIN is set, setting it once, and checking a typed PIN."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _stored(self) -> str | None:
        row = self.db.one("SELECT value FROM kit_settings WHERE key = ?", (KEY,))
        return None if row is None else str(row["value"])

    @property
    def is_set(self) -> bool:
        return self._stored() is not None

    @staticmethod
    def _hash_checked(pin: object, confirm: object) -> str:
        pin = check_pin_format(pin)
        if pin != confirm:
            raise Problem(N_("The two PINs are not the same."), fix=N_("Type the same PIN twice."),
                          code="bad_pin")
        return hash_pin(pin)

    def set_first(self, pin: object, confirm: object) -> None:
        """Set the PIN on first run; refused once one exists."""
        hashed = self._hash_checked(pin, confirm)
        with self.db.transaction() as tx:
            if tx.execute("SELECT 1 FROM kit_settings WHERE key = ?", (KEY,)).fetchone():
                raise Problem(N_("The teacher PIN is already set."),
                              fix=N_("Sign in with it instead."), code="conflict")
            tx.execute("INSERT INTO kit_settings (key, value) VALUES (?, ?)", (KEY, hashed))

    def replace(self, pin: object, confirm: object) -> None:
        """Set or replace the PIN. Only for `labkit teacher set-pin`, which needs a shell on
        the kit (the IT teacher): the way back in when a teacher forgets the PIN."""
        hashed = self._hash_checked(pin, confirm)
        with self.db.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO kit_settings (key, value) VALUES (?, ?)",
                       (KEY, hashed))

    def verify(self, pin: object) -> bool:
        stored = self._stored()
        return bool(stored and isinstance(pin, str) and verify_pin(pin, stored))
