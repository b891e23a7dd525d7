"""Zeroconf on loopback only: a kit announced on 127.0.0.1 is heard by a browser there with
its TXT facts; a TXT record that is not labkit's is ignored."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from labkit.fleet import discovery


def test_interfaces_follow_the_served_host() -> None:
    assert discovery.interfaces_for("127.0.0.1") == (["127.0.0.1"], True)
    assert discovery.interfaces_for("localhost") == (["127.0.0.1"], True)
    assert discovery.interfaces_for("0.0.0.0") == (None, False)


def test_txt_values_are_cut_to_fit() -> None:
    txt = discovery.txt_record(kit_id="k", name="实验" * 200, version="0.1.0",
                               packs={"a": "1.0.0"}, labs=3)
    assert len(txt["name"].encode()) <= discovery.TXT_MAX and txt["packs"] == "a=1.0.0"


def test_parse_ignores_records_that_are_not_labkits() -> None:
    assert discovery.parse_info("x", {b"foo": b"bar"}, 8080, []) is None
    kit = discovery.parse_info("n", {b"id": b"k1", b"name": "三号机".encode(), b"v": b"0.1",
                                     b"labs": b"x"}, 8080, ["127.0.0.1"])
    assert kit is not None and kit.name == "三号机" and kit.labs == 0


def _hear(kit_id: str) -> list[discovery.FoundKit]:
    """Announce `kit_id` on loopback and browse for it from this thread."""
    props = discovery.txt_record(kit_id=kit_id, name="三号机", version="0.1.0",
                                 packs={"labkit-builtin": "0.1.0"}, labs=12)
    browser = discovery.Browser(host="127.0.0.1", own_kit_id="the-lead").start()
    announcer = discovery.Announcer(host="127.0.0.1", port=18123, properties=props).start()
    try:
        deadline = time.monotonic() + 20
        found: list[discovery.FoundKit] = []
        while time.monotonic() < deadline:
            found = [k for k in browser.found() if k.kit_id == kit_id]
            if found:
                break
            time.sleep(0.1)
        return found
    finally:
        announcer.close()
        browser.close()


def test_a_kit_announced_on_loopback_is_heard() -> None:
    found = _hear("kit-under-test-1")
    assert found, "the announced kit was not heard on loopback"
    kit = found[0]
    assert (kit.name, kit.version, kit.port, kit.labs) == ("三号机", "0.1.0", 18123, 12)
    assert kit.addresses == ["127.0.0.1"] and kit.packs == "labkit-builtin=0.1.0"


def test_a_browser_started_where_an_event_loop_is_blocked_still_hears() -> None:
    """Started from a thread whose event loop runs but is busy (an ASGI server's, or a
    greenlet-driven one), zeroconf must not adopt that loop: it would never read a packet."""
    async def blocked_loop() -> list[discovery.FoundKit]:
        return _hear("kit-under-test-2")

    found: list[list[discovery.FoundKit]] = []
    thread = threading.Thread(target=lambda: found.append(asyncio.run(blocked_loop())))
    thread.start()
    thread.join(timeout=60)
    assert found and found[0], "a browser started inside a running event loop heard nothing"


def test_a_kit_serving_on_every_address_asks_zeroconf_for_every_interface(
        monkeypatch: Any) -> None:
    """`labkit serve` on 0.0.0.0 (as `make run` does) gives zeroconf a choice it accepts;
    nothing is sent here: the Zeroconf class is replaced by one that records its arguments."""
    import zeroconf

    seen: dict[str, Any] = {}

    class Recorder:
        def __init__(self, interfaces: Any, ip_version: Any) -> None:
            seen.update(interfaces=interfaces, ip_version=ip_version)

    monkeypatch.setattr(zeroconf, "Zeroconf", Recorder)
    interfaces, _loopback = discovery.interfaces_for("0.0.0.0")
    discovery._own_loop_zeroconf(interfaces)
    assert seen["interfaces"] is zeroconf.InterfaceChoice.All
