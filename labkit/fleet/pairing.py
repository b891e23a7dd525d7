"""The paired kit's side of pairing: a lead asks, this kit shows a code on its own screen (the
teacher must stand at it), the lead proves it read the code, this kit trusts the lead's key.

One pairing waits at a time, for `PAIRING_TTL_S`; `MAX_WRONG` wrong proofs cancel it (a
6-digit code cannot be guessed in 5 tries but once in 200 000).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from labkit.errors import LabkitError, lazy_gettext as _
from labkit.fleet import signed
from labkit.fleet.state import RoomState
from labkit.packs import signing

PAIRING_TTL_S = 300.0
MAX_WRONG = 5


class PairingRefused(LabkitError):
    def __init__(self, message: Any, *, code: str) -> None:
        super().__init__(message, fix=_("Start the pairing again from the lead kit and type "
                                        "the code this kit shows."), code=code)


def start(state: RoomState, body: object, *, now: float | None = None) -> dict[str, Any]:
    """A lead asks to pair: remember its key and make a code to show on this kit's screen."""
    now = time.time() if now is None else now
    if not isinstance(body, dict):
        raise PairingRefused(_("The pairing request is not valid."), code="bad_request")
    key_text = str(body.get("lead_key", ""))
    try:
        signing.parse_public(key_text)
    except signing.BadKey:
        raise PairingRefused(_("The pairing request has no valid key."),
                             code="bad_request") from None
    challenge = secrets.token_hex(16)
    state.set_pending({"lead_key": key_text.strip(), "code": signed.new_code(),
                       "challenge": challenge, "expires": now + PAIRING_TTL_S, "wrong": 0,
                       "lead_kit_id": str(body.get("lead_kit_id", ""))[:64],
                       "lead_name": str(body.get("lead_name", ""))[:60]})
    return {"challenge": challenge}


def shown_code(state: RoomState, *, now: float | None = None) -> dict[str, Any] | None:
    """The code to show on this kit's screen (and who asks), if a pairing is waiting."""
    now = time.time() if now is None else now
    pending = state.pending()
    if not pending or float(pending.get("expires", 0)) < now:
        return None
    return {"code": pending["code"], "lead_name": pending.get("lead_name", ""),
            "expires_in": int(float(pending["expires"]) - now)}


def confirm(state: RoomState, body: object, *, kit_id: str,
            now: float | None = None) -> dict[str, Any]:
    """The lead proves it read the code: trust its key and prove this kit's own key back."""
    now = time.time() if now is None else now
    pending = state.pending()
    if not pending or float(pending.get("expires", 0)) < now:
        state.set_pending(None)
        raise PairingRefused(_("No pairing is waiting on this kit (or it took too long)."),
                             code="no_pairing")
    if not isinstance(body, dict) or str(body.get("lead_key", "")).strip() \
            != pending["lead_key"]:
        raise PairingRefused(_("This pairing was started by another kit."), code="other_lead")
    if not signed.proof_ok(pending["code"], "lead", pending["lead_key"], pending["challenge"],
                           body.get("proof")):
        pending["wrong"] = int(pending.get("wrong", 0)) + 1
        if pending["wrong"] >= MAX_WRONG:
            state.set_pending(None)
            raise PairingRefused(_("Wrong code too many times; the pairing was cancelled."),
                                 code="too_many_wrong")
        state.set_pending(pending)
        raise PairingRefused(_("That is not the code shown on this kit."), code="wrong_code")
    state.set_pending(None)
    state.add_lead(pending["lead_key"], kit_id=pending.get("lead_kit_id", ""),
                   name=pending.get("lead_name", ""), paired_at=now)
    kit_key = state.public_text()
    return {"kit_id": kit_id, "name": state.name(), "kit_key": kit_key,
            "proof": signed.proof(pending["code"], "kit", kit_key, pending["challenge"])}
