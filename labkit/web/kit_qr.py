"""The kit's address as a QR code, for students' tablets (home page and teacher console).

Which address: the one the browser already used, when that is not the kit's own loopback (a
tablet that reached the page can reach it again the same way); on the kit's own screen, an
IPv4 address of the kit on the classroom network — Android tablets often do not resolve
`.local` names — and the `.local` name only when the kit has no such address. The QR code is
drawn as SVG by `qrcode` (pure Python), on the kit; nothing is fetched.
"""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import time
from io import BytesIO
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request

from labkit.web.access import ANONYMOUS, allow

bp = Blueprint("kit_qr", __name__)

_ADDRESS_TTL = 60.0
_cache: dict[str, tuple[float, list[str]]] = {}


def lan_ipv4() -> list[str]:
    """The kit's IPv4 addresses other than loopback, as the OS reports them (`hostname -I`,
    no traffic is sent); remembered for a minute so a busy page does not run it each time."""
    now = time.monotonic()
    hit = _cache.get("ips")
    if hit and now - hit[0] < _ADDRESS_TTL:
        return hit[1]
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True,
                             timeout=3).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    ips = []
    for word in out.split():
        try:
            ip = ipaddress.ip_address(word)
        except ValueError:
            continue
        if ip.version == 4 and not ip.is_loopback and not ip.is_link_local:
            ips.append(word)
    _cache["ips"] = (now, ips)
    return ips


def _is_loopback(hostname: str) -> bool:
    if hostname in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def kit_url() -> str:
    """The address to give students for this kit (see the module's docstring)."""
    asked = urlsplit("//" + request.host)
    if not _is_loopback(asked.hostname or ""):
        return request.host_url
    port = asked.port or current_app.config["LABKIT_SETTINGS"].port
    ips = lan_ipv4()
    host = ips[0] if ips else f"{socket.gethostname()}.local"
    return f"http://{host}:{port}/"


def qr_svg(text: str) -> bytes:
    """`text` as a QR code in SVG (one path; medium error correction survives a smudged
    projector or a printed copy)."""
    import qrcode
    from qrcode.image.svg import SvgPathImage

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2,
                         image_factory=SvgPathImage)
    code.add_data(text)
    code.make(fit=True)
    out = BytesIO()
    code.make_image().save(out)
    return out.getvalue()


@bp.app_context_processor
def _kit_url_in_templates() -> dict[str, object]:
    return {"kit_url": kit_url}


@bp.get("/kit-qr.svg")
@allow(ANONYMOUS)
def kit_qr() -> Response:
    """The QR code of `kit_url()`; the address itself is in the response's X-Kit-URL header."""
    url = kit_url()
    response = Response(qr_svg(url), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Kit-URL"] = url
    return response
