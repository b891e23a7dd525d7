"""Who this kit is, and the UUID of each record that may travel to another kit.

Row ids are only unique on one kit; when a fleet merges thirty kits' portfolios, students,
runs, artefacts and classes are matched by UUID instead (migration 2 gave every existing row
one, and a trigger gives one to every new row). The kit id is made once, on the first start,
and never changes — not when labkit is updated, nor when the kit is renamed.
"""

from __future__ import annotations

from labkit.errors import LabkitError
from labkit.store.db import Database
from labkit.store.migrations import TRAVELLING_TABLES


class KitIdentity:
    def __init__(self, db: Database) -> None:
        self.db = db

    @property
    def kit_id(self) -> str:
        row = self.db.one("SELECT value FROM kit_settings WHERE key = 'kit_id'")
        if row is None:  # only a database edited by hand lacks it
            raise LabkitError("the kit's database has no kit id", code="database",
                              fix="restore the database from a backup")
        return str(row["value"])

    def uuid(self, table: str, row_id: int) -> str | None:
        """The UUID of row `row_id` of a travelling table (classes, students, runs,
        artefacts), or None if there is no such row."""
        row = self.db.one(f"SELECT uuid FROM {_table(table)} WHERE id = ?", (row_id,))
        return str(row["uuid"]) if row else None

    def row_id(self, table: str, uuid: str) -> int | None:
        """This kit's row id of the record with `uuid`, or None if the kit has no such record."""
        row = self.db.one(f"SELECT id FROM {_table(table)} WHERE uuid = ?", (uuid,))
        return int(row["id"]) if row else None


def _table(table: str) -> str:
    if table not in TRAVELLING_TABLES:  # the name goes into SQL: only known tables
        raise ValueError(f"{table!r} is not one of {TRAVELLING_TABLES}")
    return table
