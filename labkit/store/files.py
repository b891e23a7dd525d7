"""Files a student chose to keep (a saved picture, a trained model), written atomically.

Frames and recordings stay in memory unless a student explicitly saves one; only then does a
file reach the disk, under `<data>/portfolio/<student>/<run>/`, with its sha256 recorded in the
database. Kept files are encrypted at rest with a key held by the kit and decrypted only in
memory. The file is written (temp + fsync + rename) before its row is committed, so a kill in
between leaves at worst an unreferenced file, never a row pointing at half a file.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from pathlib import Path
from typing import Any

from labkit.atrest import KEY_FILE, SEALED, SealBroken, sealer_for
from labkit.fsutil import atomic_write_bytes
from labkit.store.db import Database
from labkit.store.problems import N_, Problem
from labkit.store.runs import Artefact

KINDS = {"sample": (".jpg", ".png", ".wav", ".json", ".npz", ".csv"),
         "model": (".onnx", ".json", ".npz", ".tflite")}
# Kept files are sealed by labkit.atrest (the kit's one data key, `<data dir>/portfolio.key`).
__all__ = ["Artefacts", "KEY_FILE", "SEALED"]
MAX_BYTES = {"sample": 8 * 1024 * 1024, "model": 64 * 1024 * 1024}


class Artefacts:
    """Save and find a run's kept files."""

    def __init__(self, db: Database, root: Path) -> None:
        self.db = db
        self.root = Path(root)
        self._cipher: Any = None

    def save(self, run_id: int, kind: str, name: str, data: bytes, suffix: str) -> Artefact:
        if kind not in KINDS:
            raise ValueError(f"unknown artefact kind {kind!r}")
        suffix = suffix.lower()
        if suffix not in KINDS[kind]:
            raise Problem(N_("A %(kind)s cannot be saved as a %(suffix)s file."),
                          code="bad_input", kind=kind, suffix=suffix)
        if len(data) > MAX_BYTES[kind]:
            raise Problem(N_("The file is too large to keep (%(mb)s MB)."), code="too_large",
                          mb=round(len(data) / 1e6, 1))
        label = " ".join(str(name).split())[:60] or kind
        row = self.db.one("SELECT student_id FROM runs WHERE id = ?", (run_id,))
        if row is None:
            raise Problem(N_("There is no run number %(run_id)s."), code="not_found",
                          run_id=run_id)
        rel = Path(str(row["student_id"])) / str(run_id) / f"{kind}-{secrets.token_hex(6)}{suffix}"
        path = atomic_write_bytes(self.root / rel, self._seal(data))
        digest = hashlib.sha256(data).hexdigest()
        try:
            with self.db.transaction() as tx:
                cur = tx.execute(
                    "INSERT INTO artefacts (run_id, kind, name, path, sha256, bytes, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (run_id, kind, label, rel.as_posix(), digest, len(data), time.time()))
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return Artefact(int(cur.lastrowid or 0), run_id, kind, label, rel.as_posix(), digest,
                        len(data), time.time())

    def path(self, artefact: Artefact) -> Path:
        """Where the file lives; refuses paths that would leave the portfolio folder."""
        path = (self.root / artefact.path).resolve()
        if self.root.resolve() not in path.parents:
            raise Problem(N_("That file is not in the portfolio."), code="not_found")
        return path

    def read(self, artefact: Artefact) -> bytes:
        """The file's bytes, checked against the recorded sha256."""
        try:
            data = self._open(self.path(artefact).read_bytes())
        except OSError:
            raise Problem(N_("The saved file \"%(name)s\" is missing."), code="not_found",
                          name=artefact.name) from None
        if hashlib.sha256(data).hexdigest() != artefact.sha256:
            raise Problem(N_("The saved file \"%(name)s\" is damaged."), code="conflict",
                          name=artefact.name)
        return data

    # ---- at rest: a picture of a child is never a readable file on the SD card ---------------
    def _sealer(self) -> Any:
        if self._cipher is None:
            self._cipher = sealer_for(self.root.parent)
        return self._cipher

    def _seal(self, data: bytes) -> bytes:
        return self._sealer().seal(data)

    def _open(self, stored: bytes) -> bytes:
        """Decrypted bytes (in memory only); a file from before encryption is read as is."""
        try:
            return self._sealer().open(stored)
        except SealBroken:
            return b""   # the sha256 check then reports the file as damaged

    def seal_clear_files(self) -> int:
        """Encrypt kept files written before encryption existed (run on start); how many."""
        if not self.root.is_dir():
            return 0
        return self._sealer().seal_all(self.root / row["path"]
                                       for row in self.db.query("SELECT path FROM artefacts"))

    def get(self, artefact_id: int) -> Artefact:
        r = self.db.one("SELECT * FROM artefacts WHERE id = ?", (artefact_id,))
        if r is None:
            raise Problem(N_("That file is not in the portfolio."), code="not_found")
        return Artefact(r["id"], r["run_id"], r["kind"], r["name"], r["path"], r["sha256"],
                        r["bytes"], r["created_at"])

    def remove_files_of_student(self, student_id: int) -> None:
        """Delete a removed student's folder (their rows are gone with the student)."""
        folder = self.root / str(student_id)
        if folder.is_dir():
            for path in sorted(folder.rglob("*"), reverse=True):
                if path.is_dir():
                    path.rmdir()
                else:
                    path.unlink()
            folder.rmdir()
