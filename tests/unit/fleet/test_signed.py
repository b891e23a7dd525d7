"""Signed requests between kits: a good one passes once; unsigned, unknown key, altered body,
another target, stale, from before the receiver started, and replayed ones are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.fleet import signed
from labkit.fleet.state import RoomState


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def lead(tmp_path: Path) -> RoomState:
    return RoomState(tmp_path / "lead")


@pytest.fixture
def kit(tmp_path: Path, lead: RoomState) -> RoomState:
    kit = RoomState(tmp_path / "kit")
    kit.add_lead(lead.public_text(), kit_id="lead-id", name="lead")
    return kit


def check(kit: RoomState, headers: dict[str, str], nonces: signed.NonceMemory, *,
          body: bytes | None = b"", path: str = "/fleet/v1/status", method: str = "GET",
          target: str = "kit-1") -> signed.Verdict:
    return signed.verify_request(headers, method, path, body, kit_id=target,
                                 key_for=kit.lead_key, nonces=nonces)


def test_a_fresh_signed_request_passes_once(lead: RoomState, kit: RoomState) -> None:
    clock = Clock(1000.0)
    nonces = signed.NonceMemory(clock)
    h = signed.sign_headers(lead.private_key(), "GET", "/fleet/v1/status", "kit-1", b"",
                            now=1000.5)
    assert check(kit, h, nonces).ok
    assert check(kit, h, nonces).reason == "replayed"


@pytest.mark.parametrize("change, reason", [
    (lambda h: h.pop(signed.H_SIG), "unsigned"),
    (lambda h: h.__setitem__(signed.H_TIME, "1000.600"), "bad_signature"),
    (lambda h: h.__setitem__(signed.H_BODY, "0" * 64), "bad_signature"),
])
def test_a_changed_or_missing_header_is_refused(lead: RoomState, kit: RoomState,
                                                 change: object, reason: str) -> None:
    nonces = signed.NonceMemory(Clock(1000.0))
    h = signed.sign_headers(lead.private_key(), "GET", "/fleet/v1/status", "kit-1", b"",
                            now=1000.5)
    change(h)  # type: ignore[operator]
    assert check(kit, h, nonces).reason == reason


def test_body_path_target_and_method_are_signed(lead: RoomState, kit: RoomState) -> None:
    nonces = signed.NonceMemory(Clock(1000.0))
    key = lead.private_key()
    h = signed.sign_headers(key, "POST", "/fleet/v1/lab", "kit-1", b'{"lab_id": null}', now=1000)
    assert check(kit, h, nonces, body=b'{"lab_id": "x"}', method="POST",
                 path="/fleet/v1/lab").reason == "bad_signature"
    for kw in ({"path": "/fleet/v1/roster"}, {"target": "kit-2"}, {"method": "GET"}):
        args = {"body": b'{"lab_id": null}', "method": "POST", "path": "/fleet/v1/lab", **kw}
        assert check(kit, dict(h), nonces, **args).reason == "bad_signature"
    assert check(kit, h, nonces, body=b'{"lab_id": null}', method="POST",
                 path="/fleet/v1/lab").ok


def test_a_streamed_body_is_checked_by_the_view(lead: RoomState, kit: RoomState) -> None:
    nonces = signed.NonceMemory(Clock(1000.0))
    h = signed.sign_headers(lead.private_key(), "POST", "/fleet/v1/packs", "kit-1", b"pack",
                            now=1000)
    assert check(kit, h, nonces, body=None, method="POST", path="/fleet/v1/packs").ok
    import hashlib
    assert signed.body_matches(h, hashlib.sha256(b"pack").hexdigest())
    assert not signed.body_matches(h, hashlib.sha256(b"kcap").hexdigest())


def test_stale_early_and_foreign_requests_are_refused(lead: RoomState, kit: RoomState,
                                                      tmp_path: Path) -> None:
    clock = Clock(10_000.0)
    nonces = signed.NonceMemory(clock)
    key = lead.private_key()
    old = signed.sign_headers(key, "GET", "/fleet/v1/status", "kit-1", b"",
                              now=10_000 - signed.WINDOW_S - 1)
    assert check(kit, old, nonces).reason == "stale"
    future = signed.sign_headers(key, "GET", "/fleet/v1/status", "kit-1", b"",
                                 now=10_000 + signed.WINDOW_S + 1)
    assert check(kit, future, nonces).reason == "stale"
    # signed before this kit started: its nonce memory cannot know it, so it is refused
    before = signed.sign_headers(key, "GET", "/fleet/v1/status", "kit-1", b"", now=9_990)
    assert check(kit, before, nonces).reason == "stale"
    other_room = RoomState(tmp_path / "other").private_key()
    foreign = signed.sign_headers(other_room, "GET", "/fleet/v1/status", "kit-1", b"",
                                  now=10_000)
    assert check(kit, foreign, nonces).reason == "unknown_key"


def test_a_removed_lead_is_refused(lead: RoomState, kit: RoomState) -> None:
    nonces = signed.NonceMemory(Clock(1000.0))
    h = signed.sign_headers(lead.private_key(), "GET", "/fleet/v1/status", "kit-1", b"",
                            now=1000)
    kit.remove_lead(h[signed.H_KEY])
    assert check(kit, h, nonces).reason == "unknown_key"
