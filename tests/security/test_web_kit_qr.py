"""The kit's address as a QR code on the home page and the teacher console: the address the
tablet used, or on the kit's own screen a LAN IPv4 address (tablets often miss `.local`)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from labkit.web import kit_qr
from tests.security.web_helpers import LAPTOP, teacher


def _dark_modules(svg: bytes) -> int:
    """How many dark modules the SVG path draws (a real code has many, a blank one none)."""
    path = re.search(rb'<path d="([^"]+)"', svg).group(1)
    return path.count(b"z")


def test_qr_svg_is_a_real_code_that_depends_on_the_text() -> None:
    a, b = kit_qr.qr_svg("http://192.168.1.20:8080/"), kit_qr.qr_svg("http://192.168.1.21:8080/")
    assert a.startswith(b"<?xml") and b"<svg" in a and a != b
    assert _dark_modules(a) > 100


def test_a_tablet_gets_the_address_it_used(app: Any) -> None:
    client = app.test_client()
    r = client.get("/kit-qr.svg", base_url="http://192.168.1.20:8080")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    assert r.headers["X-Kit-URL"] == "http://192.168.1.20:8080/"
    assert r.data == kit_qr.qr_svg("http://192.168.1.20:8080/")


@pytest.mark.parametrize("ips, expected", [
    (["10.0.0.7", "172.17.0.1"], "http://10.0.0.7:8080/"),
    ([], None),
])
def test_the_kits_own_screen_gets_a_lan_address(app: Any, monkeypatch: Any, ips: list[str],
                                                 expected: str | None) -> None:
    monkeypatch.setattr(kit_qr, "lan_ipv4", lambda: ips)
    monkeypatch.setattr(kit_qr.socket, "gethostname", lambda: "kit-07")
    r = app.test_client().get("/kit-qr.svg", base_url="http://127.0.0.1:8080")
    assert r.headers["X-Kit-URL"] == (expected or "http://kit-07.local:8080/")


def test_lan_ipv4_reads_hostname_output(monkeypatch: Any) -> None:
    class Done:
        stdout = "192.168.4.1 127.0.0.1 169.254.3.3 fe80::1 10.1.2.3 junk\n"

    kit_qr._cache.clear()
    monkeypatch.setattr(kit_qr.subprocess, "run", lambda *a, **k: Done())
    assert kit_qr.lan_ipv4() == ["192.168.4.1", "10.1.2.3"]
    kit_qr._cache.clear()


def test_home_page_and_console_show_the_code(app: Any) -> None:
    home = app.test_client().get("/", base_url="http://192.168.1.20:8080").get_data(as_text=True)
    assert 'src="/kit-qr.svg"' in home and "http://192.168.1.20:8080/" in home
    console = teacher(app, **LAPTOP).get("/teacher").get_data(as_text=True)
    assert 'id="kit-qr-image"' in console
