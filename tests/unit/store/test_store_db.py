"""The database file: WAL mode, numbered migrations, transactions that are all or nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from labkit.errors import LabkitError
from labkit.store import Store
from labkit.store.db import DB_NAME, Database
from labkit.store.migrations import MIGRATIONS


def test_database_is_wal_with_foreign_keys_and_full_sync(store: Store) -> None:
    assert store.db.one("PRAGMA journal_mode")[0] == "wal"
    assert store.db.one("PRAGMA foreign_keys")[0] == 1
    assert store.db.one("PRAGMA synchronous")[0] == 2  # FULL
    assert store.db.version == len(MIGRATIONS)
    assert store.db.integrity_check() == "ok"


def test_migrations_run_once_and_reopen_keeps_data(data_dir: Path) -> None:
    s = Store(data_dir)
    cls = s.roster.add_class("一班")
    s.close()
    s2 = Store(data_dir)
    assert [c.name for c in s2.roster.classes()] == ["一班"]
    assert s2.db.version == len(MIGRATIONS)
    assert s2.roster.get_class(cls.id).name == "一班"
    s2.close()


def test_a_newer_schema_is_refused_clearly(data_dir: Path) -> None:
    path = data_dir / DB_NAME
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={len(MIGRATIONS) + 5}")
    conn.close()
    with pytest.raises(LabkitError) as exc:
        Database(path)
    assert "newer labkit" in exc.value.message and exc.value.code == "database"


def test_a_file_that_is_not_a_database_is_a_clear_error(data_dir: Path) -> None:
    path = data_dir / DB_NAME
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(LabkitError) as exc:
        Database(path)
    assert "not a database" in exc.value.message
    assert path.read_bytes().startswith(b"this is not sqlite")  # left alone, not overwritten


def test_transaction_rolls_back_everything_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError):
        with store.db.transaction() as tx:
            tx.execute("INSERT INTO classes (name, name_key, created_at) VALUES ('x', 'x', 0)")
            tx.execute("INSERT INTO classes (name, name_key, created_at) VALUES ('y', 'y', 0)")
            raise RuntimeError("power cut")
    assert store.roster.classes() == []


def test_nested_transactions_join_the_outer_one(store: Store) -> None:
    with pytest.raises(RuntimeError):
        with store.db.transaction() as tx:
            tx.execute("INSERT INTO classes (name, name_key, created_at) VALUES ('x', 'x', 0)")
            with store.db.transaction() as inner:
                inner.execute("INSERT INTO classes (name, name_key, created_at) "
                              "VALUES ('y', 'y', 0)")
            raise RuntimeError("later failure")
    assert store.roster.classes() == []


def test_a_second_connection_sees_committed_rows_while_the_first_is_open(store: Store,
                                                                          data_dir: Path) -> None:
    store.roster.add_class("一班")
    other = Database(data_dir / DB_NAME)
    assert other.one("SELECT name FROM classes")["name"] == "一班"
    other.close()
