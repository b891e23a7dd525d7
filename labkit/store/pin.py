"""The teacher PIN: set once on first run, stored only as a slow salted hash.

scrypt (from hashlib) makes each guess cost ~16 MB of memory and tens of milliseconds, so a
copied database does not give the PIN away by brute force in seconds; the web layer also limits
how fast wrong PINs can be tried. The PIN itself is never written anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from typing import Callable

from labkit.store.db import Database
from labkit.store.problems import N_, Problem

PIN_PATTERN = re.compile(r"[0-9]{6,12}")
MIN_PIN_DIGITS = 6          # new PINs; an older 4-digit PIN keeps working until changed
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
        raise Problem(N_("A PIN is 6 to 12 digits."), fix=N_("Type digits only, at least 6."),
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
        """Set or replace the PIN: `labkit teacher set-pin` (a shell on the kit), the teacher's
        own PIN change, or a recovery code. Callers end the teacher sessions afterwards
        (`Store.change_pin` does both)."""
        hashed = self._hash_checked(pin, confirm)
        with self.db.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO kit_settings (key, value) VALUES (?, ?)",
                       (KEY, hashed))

    def verify(self, pin: object) -> bool:
        stored = self._stored()
        return bool(stored and isinstance(pin, str) and verify_pin(pin, stored))


# ---- wrong-PIN counters -----------------------------------------------------------------------
FREE_TRIES = 5
FIRST_WAIT_S = 30.0
MAX_WAIT_S = 15 * 60.0
KIOSK = "kiosk"        # the kit's own screen (loopback): a child there must not lock out others
NETWORK = "network"    # every other device, whatever its address


class PinAttempts:
    """Wrong-PIN limits per account, with a separate counter for the kit's own screen.

    `reserve()` counts a try *before* the PIN is checked, in one write transaction, so
    concurrent guesses queue on the database lock and at most FREE_TRIES are ever checked
    before the wait starts; the source address plays no part, so rotating addresses gains
    nothing. A right PIN clears the counter. The wait doubles with each try after that.
    """

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def reserve(self, counter: str, free_tries: int = FREE_TRIES) -> int:
        """Count one try; returns the tries left after it, or raises `too_many` (not checked)."""
        now = self.clock()
        with self.db.transaction() as tx:
            row = tx.execute("SELECT failures, locked_until FROM pin_attempts WHERE counter = ?",
                             (counter,)).fetchone()
            failures, locked_until = (row[0], row[1]) if row else (0, 0.0)
            if now < locked_until and locked_until - now <= MAX_WAIT_S * 2:
                raise Problem(N_("Too many wrong tries. Try again in %(seconds)s seconds."),
                              code="too_many", seconds=int(locked_until - now) + 1)
            failures += 1
            if failures >= free_tries:
                locked_until = now + min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** (failures - free_tries))
            tx.execute("INSERT OR REPLACE INTO pin_attempts (counter, failures, locked_until) "
                       "VALUES (?, ?, ?)", (counter, failures, locked_until))
        return max(0, free_tries - failures)

    def succeeded(self, counter: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM pin_attempts WHERE counter = ?", (counter,))

    def failures(self, counter: str) -> int:
        row = self.db.one("SELECT failures FROM pin_attempts WHERE counter = ?", (counter,))
        return int(row[0]) if row else 0


# ---- recovery codes ---------------------------------------------------------------------------
RESET_KEY = "teacher_pin_reset"
RESET_CODE_DIGITS = 8
RESET_VALID_S = 15 * 60.0
RESET_TRIES = 5


class PinRecovery:
    """One-time codes that let a teacher who forgot the PIN choose a new one.

    A code is only ever shown where someone has physical access to the kit: its own screen
    (the kiosk page on loopback) or `labkit teacher reset-pin` in a shell. It is stored as a
    hash, expires after 15 minutes, and five wrong codes void it.
    """

    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def new_code(self) -> str:
        code = "".join(secrets.choice("0123456789") for _ in range(RESET_CODE_DIGITS))
        record = {"hash": hashlib.sha256(code.encode()).hexdigest(),
                  "expires": self.clock() + RESET_VALID_S, "tries": 0}
        with self.db.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO kit_settings (key, value) VALUES (?, ?)",
                       (RESET_KEY, json.dumps(record)))
        return code

    def consume(self, code: object) -> None:
        """Use up the code if it is right; raises `bad_code` otherwise (counted, atomically)."""
        bad = Problem(N_("That recovery code is not right or has expired."),
                      fix=N_("Show a new code on the kit's own screen, or run "
                             "'labkit teacher reset-pin' on the kit."), code="bad_code")
        ok = False
        with self.db.transaction() as tx:   # decide and record in one transaction, raise after
            row = tx.execute("SELECT value FROM kit_settings WHERE key = ?",
                             (RESET_KEY,)).fetchone()
            record: dict[str, object] = {}
            if row is not None:
                try:
                    record = json.loads(row[0])
                    expected, expires = str(record["hash"]), float(record["expires"])  # type: ignore[arg-type]
                    tries = int(record["tries"])  # type: ignore[call-overload]
                except (ValueError, KeyError, TypeError):
                    record = {}
            if not record:
                tx.execute("DELETE FROM kit_settings WHERE key = ?", (RESET_KEY,))
            elif self.clock() > expires or tries >= RESET_TRIES:
                tx.execute("DELETE FROM kit_settings WHERE key = ?", (RESET_KEY,))
            else:
                typed = hashlib.sha256(str(code).strip().encode("utf-8", "replace")).hexdigest()
                ok = isinstance(code, str) and hmac.compare_digest(typed, expected)
                if ok:
                    tx.execute("DELETE FROM kit_settings WHERE key = ?", (RESET_KEY,))
                else:
                    record["tries"] = tries + 1
                    tx.execute("UPDATE kit_settings SET value = ? WHERE key = ?",
                               (json.dumps(record), RESET_KEY))
        if not ok:
            raise bad
