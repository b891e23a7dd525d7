"""Signed requests between kits of one room, and the pairing code's proofs.

A request from a lead kit carries four headers::

    X-Labkit-Key        the lead's key id (signing.key_id of its public key)
    X-Labkit-Time       seconds since the epoch, on the *receiving* kit's clock
    X-Labkit-Nonce      32 random hex digits, never used twice
    X-Labkit-Signature  ed25519 over METHOD \\n PATH?QUERY \\n TARGET-KIT-ID \\n TIME \\n NONCE \\n
                        sha256(BODY)

The target's kit id is signed, so a request meant for one kit cannot be replayed to another;
the time must be within `WINDOW_S` of the receiver's clock and not before the receiver started
(its nonce memory begins then), and a nonce seen within the window is refused — a replayed
request is refused either way. Kits without a real-time clock drift apart, so the lead signs
with the receiver's time: it asks the kit for its clock (`/fleet/v1/hello`) and keeps the offset.

Pairing binds the two public keys to the code shown on the paired kit: each side proves it
knows the code with an HMAC over its own key and the kit's one-time challenge, so a kit in
the middle that does not know the code cannot swap in its own key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping


from labkit.packs import signing

if TYPE_CHECKING:  # cryptography is loaded by `signing` on first use
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

WINDOW_S = 120.0
H_KEY, H_TIME, H_NONCE, H_SIG, H_BODY = ("X-Labkit-Key", "X-Labkit-Time", "X-Labkit-Nonce",
                                         "X-Labkit-Signature", "X-Labkit-Body")


def _payload(method: str, path: str, target_kit: str, ts: str, nonce: str,
             body_hash: str) -> bytes:
    return "\n".join([method.upper(), path, target_kit, ts, nonce, body_hash]).encode("utf-8")


def sign_headers(key: Ed25519PrivateKey, method: str, path: str, target_kit: str, body: bytes,
                 *, now: float, body_hash: str | None = None) -> dict[str, str]:
    """The headers that make this request a signed one from the holder of `key` (pass
    `body_hash` for a body streamed from a file)."""
    ts = f"{now:.3f}"
    nonce = secrets.token_hex(16)
    body_hash = body_hash or hashlib.sha256(body).hexdigest()
    sig = signing.sign(key, _payload(method, path, target_kit, ts, nonce, body_hash))
    return {H_KEY: signing.key_id(key.public_key()), H_TIME: ts, H_NONCE: nonce, H_SIG: sig,
            H_BODY: body_hash}


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""        # why not: unsigned, unknown_key, bad_signature, stale, replayed
    key_id: str = ""


class NonceMemory:
    """Nonces seen within the window, forgotten once they are too old to be accepted anyway."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.started = clock()
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def check_and_remember(self, nonce: str, ts: float) -> bool:
        now = self.clock()
        with self._lock:
            if len(self._seen) > 10_000 or secrets.randbelow(64) == 0:
                self._seen = {n: t for n, t in self._seen.items() if now - t <= 2 * WINDOW_S}
            if nonce in self._seen:
                return False
            self._seen[nonce] = ts
            return True


def verify_request(headers: Mapping[str, str], method: str, path: str, body: bytes | None, *,
                   kit_id: str, key_for: Callable[[str], Any | None],
                   nonces: NonceMemory) -> Verdict:
    """Is this a fresh request signed by a lead this kit paired with?

    `body` None: the body is streamed to disk by the view, which must compare its sha256 with
    the signed `X-Labkit-Body` (`body_matches`) before using it."""
    kid, ts, nonce, sig, body_hash = (headers.get(h, "")
                                      for h in (H_KEY, H_TIME, H_NONCE, H_SIG, H_BODY))
    if not (kid and ts and nonce and sig and body_hash) or len(nonce) != 32:
        return Verdict(False, "unsigned")
    key = key_for(kid)
    if key is None:
        return Verdict(False, "unknown_key", kid)
    if not signing.verify(key, _payload(method, path, kit_id, ts, nonce, body_hash), sig):
        return Verdict(False, "bad_signature", kid)
    if body is not None and not body_matches(headers, hashlib.sha256(body).hexdigest()):
        return Verdict(False, "bad_signature", kid)
    try:
        when = float(ts)
    except ValueError:
        return Verdict(False, "unsigned", kid)
    now = nonces.clock()
    if abs(now - when) > WINDOW_S or when < nonces.started - 1.0:
        return Verdict(False, "stale", kid)
    if not nonces.check_and_remember(nonce, when):
        return Verdict(False, "replayed", kid)
    return Verdict(True, "", kid)


def body_matches(headers: Mapping[str, str], sha256_hex: str) -> bool:
    return hmac.compare_digest(headers.get(H_BODY, ""), sha256_hex)


# ---- pairing ---------------------------------------------------------------------------------
CODE_DIGITS = 6


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def proof(code: str, role: str, key_text: str, challenge: str) -> str:
    """What a side sends to show it knows the code, bound to its own public key."""
    msg = "\n".join([role, key_text.strip(), challenge]).encode("utf-8")
    return hmac.new(code.encode("ascii"), msg, hashlib.sha256).hexdigest()


def proof_ok(expected_code: str, role: str, key_text: str, challenge: str, given: object) -> bool:
    return isinstance(given, str) and hmac.compare_digest(
        proof(expected_code, role, key_text, challenge), given)
