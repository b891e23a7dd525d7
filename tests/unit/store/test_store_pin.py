"""The teacher PIN is set once and stored only as a slow salted hash."""

from __future__ import annotations

import pytest

from labkit.store import Problem, Store
from labkit.store.db import DB_NAME
from labkit.store.pin import hash_pin, verify_pin


def test_pin_is_hashed_with_scrypt_and_verifies(store: Store) -> None:
    assert not store.pin.is_set
    store.pin.set_first("987654321", "987654321")
    assert store.pin.is_set
    stored = store.db.one("SELECT value FROM kit_settings WHERE key='teacher_pin'")["value"]
    assert stored.startswith("scrypt$16384$8$1$") and "987654321" not in stored
    assert store.pin.verify("987654321") and not store.pin.verify("987654320")
    assert not store.pin.verify(None) and not store.pin.verify("")


def test_the_plain_pin_is_nowhere_on_disk(store: Store) -> None:
    store.pin.set_first("5550123498", "5550123498")
    store.close()
    for path in store.data_dir.rglob("*"):
        if path.is_file():
            assert b"5550123498" not in path.read_bytes(), path


def test_same_pin_gets_different_salts() -> None:
    a, b = hash_pin("1234"), hash_pin("1234")
    assert a != b and verify_pin("1234", a) and verify_pin("1234", b)
    assert not verify_pin("1234", "garbage") and not verify_pin("1234", "md5$x$y$z$aa$bb")


@pytest.mark.parametrize("pin, confirm", [("12", "12"), ("abcd", "abcd"), ("1234", "1235"),
                                          ("1" * 13, "1" * 13), (None, None)])
def test_bad_first_pins_are_refused(store: Store, pin: object, confirm: object) -> None:
    with pytest.raises(Problem) as exc:
        store.pin.set_first(pin, confirm)
    assert exc.value.code == "bad_pin"
    assert not store.pin.is_set


def test_pin_cannot_be_set_twice(store: Store) -> None:
    store.pin.set_first("246800", "246800")
    with pytest.raises(Problem) as exc:
        store.pin.set_first("135700", "135700")
    assert exc.value.code == "conflict" and store.pin.verify("246800")
    assert (store.data_dir / DB_NAME).exists()
