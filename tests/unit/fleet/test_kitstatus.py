"""A kit's compact live status: through the TXT record and back, re-announced on change at
most every few seconds (and the last change always sent), and a real zeroconf update on
loopback heard by a browser."""

from __future__ import annotations

import threading
import time

from labkit.fleet import discovery
from labkit.fleet.kitstatus import (KitStatus, RateLimiter, StatusAnnouncements, StatusWatcher,
                                    disk_free_pct, from_txt)

RUNNING = KitStatus(lab="clap_lamp", camera_ok=True, models_ok=False, disk_free_pct=73)


def _props(record: dict[str, str]) -> dict[bytes, bytes]:
    return {k.encode(): v.encode() for k, v in record.items()}


def test_the_status_goes_through_the_txt_record_and_back() -> None:
    record = discovery.txt_record(kit_id="k1", name="三号机", version="0.1.0", packs={},
                                  labs=3, status=RUNNING)
    assert (record["lab"], record["cam"], record["mod"], record["disk"]) == \
        ("clap_lamp", "1", "0", "73")
    kit = discovery.parse_info("n", _props(record), 8080, ["127.0.0.1"])
    assert kit is not None and kit.status == RUNNING
    assert kit.as_dict()["status"] == {"lab": "clap_lamp", "camera_ok": True,
                                       "models_ok": False, "disk_free_pct": 73}
    idle = discovery.txt_record(kit_id="k1", name="x", version="0.1.0", packs={}, labs=3,
                                status=KitStatus(camera_ok=False, disk_free_pct=0))
    kit = discovery.parse_info("n", _props(idle), 8080, [])
    assert kit is not None and kit.status == KitStatus(None, False, None, 0)


def test_a_record_without_a_status_or_with_a_garbled_one() -> None:
    old = discovery.txt_record(kit_id="k1", name="x", version="0.1.0", packs={}, labs=3)
    kit = discovery.parse_info("n", _props(old), 8080, [])
    assert kit is not None and kit.status is None and kit.as_dict()["status"] is None
    garbled = {"lab": "", "cam": "yes", "mod": "1", "disk": "lots"}
    assert from_txt(lambda k: garbled.get(k, "")) == KitStatus(None, None, True, None)
    assert disk_free_pct(0, 0) is None and disk_free_pct(200, 50) == 25


def test_changes_are_announced_at_most_every_interval_and_the_last_one_gets_out() -> None:
    limiter = RateLimiter(min_interval=5.0)
    idle = KitStatus(camera_ok=True, models_ok=True, disk_free_pct=80)
    limiter.first(idle, now=100.0)
    assert limiter.offer(idle, now=101.0) is None                   # unchanged
    assert limiter.offer(RUNNING, now=102.0) is None                # too soon: kept
    assert limiter.pending == RUNNING
    assert limiter.offer(RUNNING, now=104.9) is None
    assert limiter.offer(RUNNING, now=105.0) == RUNNING             # due: sent
    assert limiter.offer(idle, now=106.0) is None                   # too soon again
    assert limiter.offer(RUNNING, now=107.0) is None and limiter.pending is None  # back
    assert limiter.offer(idle, now=111.0) == idle


def test_the_watcher_announces_each_change_it_reads() -> None:
    statuses = [KitStatus(disk_free_pct=50), KitStatus(disk_free_pct=50), RUNNING]
    heard: list[KitStatus] = []
    got = threading.Event()

    def read() -> KitStatus:
        return statuses.pop(0) if len(statuses) > 1 else statuses[0]

    def announce(status: KitStatus) -> None:
        heard.append(status)
        got.set()

    watcher = StatusWatcher(read, announce, poll=0.01, min_interval=0.0)
    watcher.start(KitStatus(disk_free_pct=50))
    try:
        assert got.wait(10)
    finally:
        watcher.close()
    assert heard == [RUNNING]


class _Announcer:
    def __init__(self) -> None:
        self.registered = threading.Event()
        self.sent: list[dict[str, str]] = []
        self.got = threading.Event()

    def update(self, changes: dict[str, str]) -> bool:
        self.sent.append(changes)
        self.got.set()
        return True


def test_changes_are_announced_only_once_the_kit_is_registered() -> None:
    announcer, now = _Announcer(), [KitStatus(disk_free_pct=50)]
    idle = KitStatus(disk_free_pct=50)
    announcements = StatusAnnouncements(announcer, lambda: now[0], [idle], poll=0.01,
                                        min_interval=0.0)
    try:
        now[0] = RUNNING
        assert not announcer.got.wait(0.2)       # still probing: nothing re-announced
        announcer.registered.set()
        assert announcer.got.wait(10)
    finally:
        announcements.close()
    assert announcer.sent[0] == RUNNING.txt()


def test_an_updated_status_is_heard_on_loopback() -> None:
    idle = KitStatus(camera_ok=True, models_ok=True, disk_free_pct=80)
    props = discovery.txt_record(kit_id="kit-status-1", name="四号机", version="0.1.0",
                                 packs={}, labs=2, status=idle)
    browser = discovery.Browser(host="127.0.0.1", own_kit_id="the-lead").start()
    announcer = discovery.Announcer(host="127.0.0.1", port=18124, properties=props).start()

    def heard() -> KitStatus | None:
        kits = [k for k in browser.found() if k.kit_id == "kit-status-1"]
        return kits[0].status if kits else None

    def until(wanted: KitStatus) -> KitStatus | None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and heard() != wanted:
            time.sleep(0.05)
        return heard()

    try:
        assert until(idle) == idle
        assert announcer.registered.wait(20)
        assert announcer.update(RUNNING.txt())
        assert until(RUNNING) == RUNNING
        assert announcer.properties["name"] == "四号机"        # the rest of the record kept
    finally:
        announcer.close()
        browser.close()
    assert not announcer.update(idle.txt())                   # closed: nothing announced
