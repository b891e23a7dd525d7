"""The lead kit's side: pair with a kit, then act on every paired kit at once.

Every action runs against all member kits in parallel; each kit's answer becomes one
`KitResult` (ok, or the kit's own error message), and a kit that is off is reported after the
connect timeout instead of being waited for.
"""

from __future__ import annotations

import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlsplit

from labkit import __version__
from labkit.errors import LabkitError, Message, lazy_gettext as _
from labkit.fleet import signed
from labkit.fleet.state import RoomState

if TYPE_CHECKING:
    import requests

CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 60.0       # a kit reading its lab folders for the first time is slow
PUSH_READ_TIMEOUT_S = 300.0
API = "/fleet/v1"


class FleetError(LabkitError):
    """A room action that could not be done with one kit."""

    def __init__(self, message: Message | str, *, code: str = "fleet") -> None:
        super().__init__(message, fix=_("Check that the kit is on and on the classroom "
                                        "network, then try again."), code=code)


def base_url(address: str) -> str:
    """`host`, `host:port` or `http://host:port` → `http://host:port` (8080 if none given)."""
    text = (address or "").strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        port = parts.port or 8080
    except ValueError:
        parts, port = None, 0
    if parts is None or parts.scheme != "http" or not parts.hostname \
            or parts.path not in ("", "/") or parts.query or parts.username or not port:
        raise FleetError(_("%(address)s is not a kit address like 192.168.1.23:8080.",
                           address=repr(address)), code="bad_address")
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


@dataclass
class KitResult:
    kit_id: str
    name: str
    address: str
    ok: bool
    error: Message | str = ""       # rendered in the asking request's language
    code: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kit_id": self.kit_id, "name": self.name, "address": self.address,
                "ok": self.ok, "error": str(self.error), "code": self.code, "detail": self.detail}


def _remote_error(resp: requests.Response) -> FleetError:
    try:
        err = resp.json()["error"]
        return FleetError(str(err["message"]), code=str(err.get("code", "remote")))
    except (ValueError, KeyError, TypeError):
        return FleetError(_("The kit answered %(status)s.", status=resp.status_code),
                          code="remote")


def _request(method: str, url: str, *, timeout: float, **kw: Any) -> requests.Response:
    import requests  # on first kit-to-kit call: a kit alone in a room never needs it

    try:
        return requests.request(method, url, timeout=(CONNECT_TIMEOUT_S, timeout),
                                allow_redirects=False, **kw)
    except requests.ConnectionError:
        raise FleetError(_("The kit does not answer (off, or not on this network)."),
                         code="unreachable") from None
    except requests.Timeout:
        raise FleetError(_("The kit did not answer in time."), code="timeout") from None
    except requests.RequestException as exc:
        raise FleetError(_("Talking to the kit failed: %(why)s", why=type(exc).__name__),
                         code="unreachable") from None


def hello(address: str) -> dict[str, Any]:
    """The kit's public facts and its clock (anonymous)."""
    url = base_url(address)
    t0 = time.time()
    resp = _request("GET", url + API + "/hello", timeout=READ_TIMEOUT_S)
    t1 = time.time()
    if resp.status_code != 200:
        raise _remote_error(resp)
    try:
        data = resp.json()
        assert isinstance(data, dict) and isinstance(data.get("kit_id"), str)
        data["clock_offset"] = float(data["time"]) - (t0 + t1) / 2
    except (ValueError, KeyError, TypeError, AssertionError):
        raise FleetError(_("Something that is not a labkit kit answers at this address."),
                         code="not_a_kit") from None
    return data


class RoomClient:
    """The lead kit talking to its room (its own key, its list of member kits)."""

    def __init__(self, state: RoomState, *, kit_id: str, name: str) -> None:
        self.state, self.kit_id, self.name = state, kit_id, name

    # ---- pairing ----------------------------------------------------------------------------
    def start_pairing(self, address: str) -> dict[str, Any]:
        """Ask a kit to show a pairing code; returns its hello and the challenge."""
        url = base_url(address)
        info = hello(url)
        if info["kit_id"] == self.kit_id:
            raise FleetError(_("That is this kit's own address."), code="self")
        resp = _request("POST", url + API + "/pair/start", timeout=READ_TIMEOUT_S,
                        json={"lead_key": self.state.public_text(), "lead_kit_id": self.kit_id,
                              "lead_name": self.name})
        if resp.status_code != 200:
            raise _remote_error(resp)
        data = resp.json()
        return {"address": url, "kit_id": info["kit_id"], "name": info.get("name", ""),
                "challenge": str(data.get("challenge", ""))}

    def confirm_pairing(self, address: str, code: str, challenge: str) -> dict[str, Any]:
        """Send the code's proof; on success the kit is a member of this room."""
        url = base_url(address)
        code = (code or "").strip()
        if not code.isdigit() or len(code) != signed.CODE_DIGITS:
            raise FleetError(_("The code is the %(n)s digits shown on the other kit.",
                               n=signed.CODE_DIGITS), code="bad_code")
        key_text = self.state.public_text()
        resp = _request("POST", url + API + "/pair/confirm", timeout=READ_TIMEOUT_S,
                        json={"lead_key": key_text,
                              "proof": signed.proof(code, "lead", key_text, challenge)})
        if resp.status_code != 200:
            raise _remote_error(resp)
        data = resp.json()
        kit_key = str(data.get("kit_key", ""))
        if not signed.proof_ok(code, "kit", kit_key, challenge, data.get("proof")):
            raise FleetError(_("The kit's answer does not prove it knows the code; it was "
                               "not paired."), code="bad_proof")
        kit_id = str(data.get("kit_id", ""))
        self.state.add_member(kit_id, name=str(data.get("name", "")), address=url,
                              key=kit_key, paired_at=time.time())
        return {"kit_id": kit_id, "name": data.get("name", ""), "address": url}

    def unpair(self, kit_id: str) -> KitResult:
        member = self.state.members().get(kit_id)
        if member is None:
            return KitResult(kit_id, "", "", False, _("That kit is not paired."),
                             "unknown_kit")
        result = self._one(kit_id, member, lambda m: self._signed(m, "POST", "/unpair"))
        self.state.remove_member(kit_id)      # forgotten here even if it was off
        return result

    # ---- signed calls -----------------------------------------------------------------------
    def _signed(self, member: dict[str, Any], method: str, path: str, *, body: bytes = b"",
                content_type: str = "application/json", timeout: float = READ_TIMEOUT_S,
                file: tuple[Path, str] | None = None) -> dict[str, Any]:
        """A signed call to one member kit; `file` (path, sha256) streams a body from disk."""
        url = base_url(member["address"])
        info = hello(url)
        if info["kit_id"] != member["kit_id"]:
            raise FleetError(_("Another kit answers at this address now (%(name)s)."
                               , name=info.get("name", "")), code="other_kit")
        full = API + path
        headers = signed.sign_headers(self.state.private_key(), method, full,
                                      member["kit_id"], body,
                                      now=time.time() + info["clock_offset"],
                                      body_hash=file[1] if file else None)
        headers["Content-Type"] = content_type
        headers["X-Labkit-Version"] = __version__
        if file is None:
            resp = _request(method, url + full, data=body, headers=headers, timeout=timeout)
        else:
            headers["Content-Length"] = str(file[0].stat().st_size)
            with open(file[0], "rb") as fh:
                resp = _request(method, url + full, data=fh, headers=headers, timeout=timeout)
        if resp.status_code != 200:
            raise _remote_error(resp)
        try:
            data = resp.json()
        except ValueError:
            raise FleetError(_("The kit's answer could not be read."), code="remote") from None
        return data if isinstance(data, dict) else {"value": data}

    def _one(self, kit_id: str, member: dict[str, Any],
             call: Callable[[dict[str, Any]], dict[str, Any]]) -> KitResult:
        m = {**member, "kit_id": kit_id}
        try:
            detail = call(m)
        except LabkitError as exc:
            return KitResult(kit_id, member.get("name", ""), member.get("address", ""), False,
                             exc.message_text, exc.code)
        return KitResult(kit_id, member.get("name", ""), member.get("address", ""), True,
                         detail=detail)

    def each(self, call: Callable[[dict[str, Any]], dict[str, Any]],
             kit_ids: list[str] | None = None) -> list[KitResult]:
        """Run `call(member)` on every (or the chosen) member kit in parallel."""
        members = self.state.members()
        chosen = [k for k in (kit_ids if kit_ids is not None else sorted(members))
                  if k in members]
        if not chosen:
            return []
        with ThreadPoolExecutor(max_workers=min(16, len(chosen))) as pool:
            futures = [pool.submit(self._one, k, members[k], call) for k in chosen]
            return [f.result() for f in futures]

    # ---- room actions -----------------------------------------------------------------------
    def status(self, kit_ids: list[str] | None = None) -> list[KitResult]:
        return self.each(lambda m: self._signed(m, "GET", "/status"), kit_ids)

    def push_pack(self, pack: Path, kit_ids: list[str] | None = None) -> list[KitResult]:
        """Send the .labpack file to every kit; each verifies and installs it itself."""
        digest = hashlib.sha256()
        with open(pack, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        file = (Path(pack), digest.hexdigest())
        return self.each(lambda m: self._signed(m, "POST", "/packs", file=file,
                                                content_type="application/octet-stream",
                                                timeout=PUSH_READ_TIMEOUT_S), kit_ids)

    def push_model(self, export: bytes, kit_ids: list[str] | None = None) -> list[KitResult]:
        """Send a trained model's export (model only, no samples) to every kit; each vets it
        as its own model import does and files it under its teacher."""
        return self.each(lambda m: self._signed(m, "POST", "/models", body=export,
                                                content_type="application/zip",
                                                timeout=PUSH_READ_TIMEOUT_S), kit_ids)

    def copy_roster(self, payload: dict[str, Any],
                    kit_ids: list[str] | None = None) -> list[KitResult]:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return self.each(lambda m: self._signed(m, "POST", "/roster", body=body), kit_ids)

    def start_lab(self, lab_id: str | None, kit_ids: list[str] | None = None) -> list[KitResult]:
        body = json.dumps({"lab_id": lab_id}).encode("utf-8")
        return self.each(lambda m: self._signed(m, "POST", "/lab", body=body), kit_ids)

    def collect(self, kit_ids: list[str] | None = None,
                check: Callable[[object], bool] | None = None) -> list[KitResult]:
        """Fetch every kit's records and keep them (replacing that kit's earlier ones)."""
        def one(member: dict[str, Any]) -> dict[str, Any]:
            data = self._signed(member, "GET", "/portfolio")
            if data.get("kit_id") != member["kit_id"] or (check and not check(data)):
                raise FleetError(_("The kit sent records this kit cannot read."),
                                 code="bad_records")
            self.state.save_collected(member["kit_id"], data)
            return {"runs": len(data.get("runs", [])),
                    "students": len(data.get("students", []))}
        return self.each(one, kit_ids)
