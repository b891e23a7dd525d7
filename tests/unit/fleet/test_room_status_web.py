"""The live status through the app: what the kit says of itself (signed status), what the
room page's poll returns for kits heard by zeroconf and kits added by address, and the page's
status strings in Chinese."""

from __future__ import annotations

import time
from typing import Any

from labkit.fleet import signed
from labkit.fleet.discovery import FoundKit
from labkit.fleet.kitstatus import KitStatus
from labkit.fleet.state import RoomState


def test_the_signed_status_carries_the_compact_status(app: Any, client: Any,
                                                      settings: Any) -> None:
    from labkit.web.fleet import fleet, kit_id

    lead = RoomState(settings.data_dir.parent / "lead")
    with app.app_context():
        fleet().state.add_lead(lead.public_text(), name="讲台")
        target = kit_id()
    path = "/fleet/v1/status"
    headers = signed.sign_headers(lead.private_key(), "GET", path, target, b"", now=time.time())
    r = client.get(path, headers=headers)
    assert r.status_code == 200, r.get_data(as_text=True)
    status = r.get_json()["status"]
    assert status["lab"] is None and status["camera_ok"] is True     # the sim camera
    assert isinstance(status["models_ok"], bool)
    assert 0 <= status["disk_free_pct"] <= 100
    # replayed: refused, status or not
    assert client.get(path, headers=headers).status_code == 403


class _HeardOnly:
    def __init__(self, kits: list[FoundKit]) -> None:
        self.kits = kits

    def found(self) -> list[FoundKit]:
        return self.kits


def test_the_room_poll_and_page_give_each_kit_its_live_status(app: Any,
                                                              teacher_client: Any) -> None:
    from labkit.web.fleet import fleet

    running = KitStatus(lab="clap_lamp", camera_ok=False, models_ok=True, disk_free_pct=9)
    with app.app_context():
        fleet().state.add_member("kit-heard", name="一号机", address="192.0.2.1:8080")
        fleet().state.add_member("kit-by-address", name="二号机", address="192.0.2.2:8080")
        fleet().browser = _HeardOnly([
            FoundKit("kit-heard", "一号机", "0.1.0", 8080, ["192.0.2.1"], status=running,
                     server="labkit-kit-hear.local."),
            FoundKit("kit-stranger", "外班", "0.1.0", 8080, ["192.0.2.9"])])
    state = teacher_client.get("/teacher/room/state").get_json()
    members = {m["kit_id"]: m for m in state["members"]}
    assert members["kit-heard"]["heard"] is True
    assert members["kit-heard"]["status"] == running.as_dict()
    assert members["kit-by-address"]["heard"] is False and members["kit-by-address"]["status"] is None
    found = {k["kit_id"]: k for k in state["found"]}
    assert found["kit-heard"]["paired"] and found["kit-heard"]["server"] == "labkit-kit-hear.local"
    assert found["kit-stranger"]["status"] is None and not found["kit-stranger"]["paired"]
    # the page that polls it says each status in words (Chinese first) beside its icon
    html = teacher_client.get("/teacher/room?lang=zh_CN").get_data(as_text=True)
    for words in ("在线", "模型已校验", "磁盘剩余", "没有正在进行的实验", "无应答"):
        assert words in html, words
    assert "icons/room.svg" in html and "css/room.css" in html
