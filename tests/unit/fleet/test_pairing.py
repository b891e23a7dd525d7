"""Pairing: the code shown on the kit, proofs bound to each side's key, wrong codes counted,
expiry, and a kit in the middle unable to swap its key in."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.fleet import pairing, signed
from labkit.fleet.state import RoomState


@pytest.fixture
def lead(tmp_path: Path) -> RoomState:
    return RoomState(tmp_path / "lead")


@pytest.fixture
def kit(tmp_path: Path) -> RoomState:
    return RoomState(tmp_path / "kit")


def start(kit: RoomState, lead: RoomState, now: float = 100.0) -> str:
    return pairing.start(kit, {"lead_key": lead.public_text(), "lead_kit_id": "L",
                               "lead_name": "讲台"}, now=now)["challenge"]


def test_pairing_with_the_code_shown_trusts_each_other(kit: RoomState, lead: RoomState) -> None:
    challenge = start(kit, lead)
    shown = pairing.shown_code(kit, now=101)
    assert shown and len(shown["code"]) == 6 and shown["lead_name"] == "讲台"
    key = lead.public_text()
    answer = pairing.confirm(kit, {"lead_key": key,
                                   "proof": signed.proof(shown["code"], "lead", key, challenge)},
                             kit_id="K", now=102)
    assert signed.proof_ok(shown["code"], "kit", answer["kit_key"], challenge, answer["proof"])
    assert answer["kit_id"] == "K" and answer["kit_key"] == kit.public_text()
    from labkit.packs import signing
    assert kit.lead_key(signing.key_id(key)) is not None
    assert pairing.shown_code(kit, now=103) is None           # used once


def test_a_wrong_code_is_refused_and_five_cancel(kit: RoomState, lead: RoomState) -> None:
    challenge = start(kit, lead)
    code = pairing.shown_code(kit, now=100)["code"]
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    key = lead.public_text()
    for i in range(pairing.MAX_WRONG):
        with pytest.raises(pairing.PairingRefused) as info:
            pairing.confirm(kit, {"lead_key": key,
                                  "proof": signed.proof(wrong, "lead", key, challenge)},
                            kit_id="K", now=101)
        expected = "too_many_wrong" if i == pairing.MAX_WRONG - 1 else "wrong_code"
        assert info.value.code == expected
    with pytest.raises(pairing.PairingRefused) as info:     # even the right code now
        pairing.confirm(kit, {"lead_key": key,
                              "proof": signed.proof(code, "lead", key, challenge)},
                        kit_id="K", now=102)
    assert info.value.code == "no_pairing"
    assert kit.leads() == {}


def test_an_expired_pairing_is_refused(kit: RoomState, lead: RoomState) -> None:
    challenge = start(kit, lead, now=100)
    code = kit.pending()["code"]
    key = lead.public_text()
    with pytest.raises(pairing.PairingRefused) as info:
        pairing.confirm(kit, {"lead_key": key,
                              "proof": signed.proof(code, "lead", key, challenge)},
                        kit_id="K", now=100 + pairing.PAIRING_TTL_S + 1)
    assert info.value.code == "no_pairing" and kit.leads() == {}


def test_a_kit_in_the_middle_cannot_swap_its_key(kit: RoomState, lead: RoomState,
                                                 tmp_path: Path) -> None:
    challenge = start(kit, lead)
    code = kit.pending()["code"]
    evil = RoomState(tmp_path / "evil").public_text()
    # it relays the lead's proof with its own key: the kit sees another lead
    with pytest.raises(pairing.PairingRefused) as info:
        pairing.confirm(kit, {"lead_key": evil, "proof": signed.proof(
            code, "lead", lead.public_text(), challenge)}, kit_id="K", now=101)
    assert info.value.code == "other_lead"
    # a proof made for one key does not prove another
    assert not signed.proof_ok(code, "lead", evil, challenge,
                               signed.proof(code, "lead", lead.public_text(), challenge))


def test_bad_requests_are_refused(kit: RoomState) -> None:
    for body in (None, [], {"lead_key": "not a key"}):
        with pytest.raises(pairing.PairingRefused):
            pairing.start(kit, body)
