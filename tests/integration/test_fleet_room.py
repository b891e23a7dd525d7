"""Three real kits (`labkit serve` on 127.0.0.1, each with its own port and data dir): the
lead pairs with two others through the code shown on each, pushes a signed pack, copies a
roster, starts a lab and collects portfolios twice into one export without duplicates; a
tampered push, an unpaired caller, a replayed request and a kit of another room are refused;
a kit that is off is reported, not waited for.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from labkit.fleet import signed
from labkit.fleet.client import RoomClient
from labkit.fleet.state import RoomState
from labkit.packs import labpack, signing
from labkit.projects.discovery import PACKAGE_LABS
from labkit.store import Store
from tests.helpers import LiveServer, free_port, start_server

# three `labkit serve` processes start and read their labs: well over 10 s on 2 cores
pytestmark = pytest.mark.slow

PIN = "24681357"


class Teacher:
    """The teacher's browser on the lead kit: the PIN session, the CSRF header, JSON calls."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        html = self.http.get(base + "/", timeout=60).text
        token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
        self.http.headers.update({"X-CSRFToken": token, "Accept": "application/json"})
        r = self.http.post(base + "/teacher/setup", data={"pin": PIN, "confirm": PIN},
                           allow_redirects=False, timeout=60)
        if r.status_code != 302:                       # the PIN is set already: sign in
            r = self.http.post(base + "/teacher/login", data={"pin": PIN},
                               allow_redirects=False, timeout=60)
        assert r.status_code == 302, r.text

    def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        r = self.http.post(self.base + path, json=body or {}, timeout=180)
        return r.status_code, r.json()

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base + path, timeout=30)


def shown_code(kit: LiveServer) -> str:
    """What the kit's own screen shows (the test runs on the kit: loopback is kit-local)."""
    data = requests.get(kit.url + "/room/pairing?format=json", timeout=60).json()
    assert data["pairing"] is not None
    return data["pairing"]["code"]


def pair(teacher: Teacher, kit: LiveServer) -> dict[str, Any]:
    status, started = teacher.post("/teacher/room/pair/start", {"address": f"127.0.0.1:{kit.port}"})
    assert status == 200, started
    status, done = teacher.post("/teacher/room/pair/confirm",
                                {"address": started["address"], "code": shown_code(kit),
                                 "challenge": started["challenge"]})
    assert status == 200, done
    return done


def make_pack(where: Path, key: Path, version: str) -> Path:
    src = where / f"src-{version}"
    shutil.copytree(PACKAGE_LABS / "experience" / "clap_lamp",
                    src / "labs" / "experience" / "room_clap_lamp")
    (src / "media").mkdir()
    (src / "media" / "note.txt").write_text(f"room pack {version}")
    (src / labpack.SOURCE_FILE).write_text(json.dumps(
        {"id": "room-science", "version": version, "title": "科学", "min_labkit": "0.1.0"}))
    return labpack.build_pack(src, key, where / "usb")


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("room")
    key = tmp / "keys" / "publisher.key"
    pub = signing.public_text(signing.generate(key))
    pack = make_pack(tmp, key, "1.0.0")
    kits = []
    for i in range(3):
        data = tmp / f"kit{i}" / "data"
        data.mkdir(parents=True)
        labpack.add_trusted_key(data, pub)       # each kit trusts the publisher, as with USB
        kits.append(data)
    # the lead installed the pack from its USB drive first (verified there too)
    labpack.PackStore(kits[0]).install(pack, vet=None)
    with ThreadPoolExecutor(3) as pool:        # started side by side: the machine is shared
        # zeroconf on (loopback only: the kits serve on 127.0.0.1), as in a classroom
        servers = list(pool.map(lambda d: start_server(d, timeout=120, LABKIT_ZEROCONF="1"),
                                kits))
        # the first page reads every lab folder: slow on a shared machine, so done here
        list(pool.map(lambda s: requests.get(s.url + "/", timeout=120), servers))
    try:
        yield {"tmp": tmp, "key": key, "lead": servers[0], "kits": servers[1:]}
    finally:
        for s in servers:
            s.stop()


def test_a_room_of_three_kits(room: dict[str, Any]) -> None:
    lead, kits = room["lead"], room["kits"]
    teacher = Teacher(lead.url)

    # an unpaired caller is refused, whoever it claims to be
    r = requests.get(kits[0].url + "/fleet/v1/status", timeout=60)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"

    paired = [pair(teacher, k) for k in kits]
    state = teacher.get("/teacher/room/state").json()
    assert sorted(m["kit_id"] for m in state["members"]) == sorted(p["kit_id"] for p in paired)

    status, statuses = teacher.post("/teacher/room/status")
    assert status == 200 and statuses["ok"] == 2, statuses
    for row in statuses["results"]:
        assert row["detail"]["version"] and "clap_lamp" in row["detail"]["labs"]
        live = row["detail"]["status"]
        assert live["lab"] is None and live["camera_ok"] is True
        assert 0 <= live["disk_free_pct"] <= 100
    # zeroconf on loopback: the room page's poll shows each paired kit's announced status
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        members = teacher.get("/teacher/room/state").json()["members"]
        if all(m["heard"] and m["status"] for m in members):
            break
        time.sleep(0.2)
    assert all(m["heard"] and m["status"]["camera_ok"] is True for m in members), members

    # push: each kit verifies and installs the signed pack itself
    status, pushed = teacher.post("/teacher/room/push", {"pack_id": "room-science"})
    assert status == 200 and pushed["ok"] == 2, pushed
    for k in kits:
        installed = json.loads((k.data_dir / "packs" / "state.json").read_text())
        assert installed["room-science"]["current"] == "1.0.0"
    # the same version again: every kit says why, none is changed
    status, again = teacher.post("/teacher/room/push", {"pack_id": "room-science"})
    assert again["ok"] == 0 and all(r["code"] == "downgrade" for r in again["results"])

    # the roster: a class on the lead, copied to every kit with the same UUIDs
    lead_store = Store(lead.data_dir)
    try:
        cls = lead_store.roster.add_class("三年级二班")
        lead_store.roster.add_students(cls.id, ["王芳", "李雷"], ["1", "2"])
        lead_uuids = {s.name: lead_store.identity.uuid("students", s.id)
                      for s in lead_store.roster.students(cls.id)}
    finally:
        lead_store.close()
    status, copied = teacher.post("/teacher/room/roster", {"class_id": cls.id})
    assert status == 200 and copied["ok"] == 2, copied
    assert all(r["detail"]["students_added"] == 2 for r in copied["results"])
    status, copied = teacher.post("/teacher/room/roster", {"class_id": cls.id})
    assert all(r["detail"]["students_added"] == 0 for r in copied["results"])

    # students work on the kits (written as the kit's runner would), then the lead collects
    run_uuids, pe_reps = [], {}
    for i, k in enumerate(kits):
        s = Store(k.data_dir)
        try:
            student = [x for x in s.roster.students(s.roster.classes()[0].id)
                       if x.name == "王芳"][0]
            assert s.identity.uuid("students", student.id) == lead_uuids["王芳"]
            run_id = s.runs.start(student.id, lesson_id="clap_lamp", project_id="clap_lamp",
                                  steps_total=2)
            s.runs.record_step(run_id, "clap", "clap_heard")
            s.runs.end(run_id, "finished")
            run_uuids.append(s.identity.uuid("runs", run_id))
            # a PE assessment run keeps its counts (the runner's `record:`)
            pe_run = s.runs.start(student.id, lesson_id="pe_assessment",
                                  project_id="pe_assessment", steps_total=3)
            s.runs.record_step(pe_run, "count", "three_reps")
            s.runs.record_measures(pe_run, {"reps": 3 + i, "attempts": 4 + i,
                                            "sit_up_reps": 0, "sit_up_attempts": 0})
            s.runs.end(pe_run, "finished")
            run_uuids.append(s.identity.uuid("runs", pe_run))
            pe_reps[s.kit_id] = 3 + i
        finally:
            s.close()

    status, lab = teacher.post("/teacher/room/lab", {"lab_id": "clap_lamp"})
    assert lab["ok"] == 2, lab
    r = requests.get(kits[0].url + "/room/now", allow_redirects=False, timeout=60)
    assert r.status_code == 302 and r.headers["Location"].endswith("/labs/clap_lamp")

    for _ in range(2):                                   # collected twice: no duplicates
        status, collected = teacher.post("/teacher/room/collect")
        assert status == 200 and collected["ok"] == 2, collected
    export = teacher.get("/teacher/room/export.csv?plain=understood")
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert sorted(r["run_uuid"] for r in rows) == sorted(run_uuids)
    assert {r["student"] for r in rows} == {"王芳"} and {r["class"] for r in rows} == {"三年级二班"}
    assert {r["steps_passed"] for r in rows} == {"1"}
    # the lead's class PE chart has the runs done on the other kits, each once, with its kit
    pe = teacher.get(f"/api/pe/classes/{cls.id}").json()["exercises"]["jumping_jack"]
    wang = next(f for f in pe if f["name"] == "王芳")
    assert sorted((r["kit"], r["reps"]) for r in wang["runs"]) == sorted(pe_reps.items())
    assert wang["best"] == max(pe_reps.values()) and wang["form_share"] == 7 / 9
    page = teacher.get(f"/teacher/classes/{cls.id}/pe").text
    assert 'id="pe-other-kits"' in page


def test_a_tampered_push_is_refused_by_the_kit(room: dict[str, Any]) -> None:
    lead, kit = room["lead"], room["kits"][0]
    lead_client = RoomClient(RoomState(lead.data_dir), kit_id=_kit_id(lead), name="lead")
    if kit.url not in {m["address"] for m in RoomState(lead.data_dir).members().values()}:
        pair(Teacher(lead.url), kit)
    good = make_pack(room["tmp"], room["key"], "2.0.0")
    data = bytearray(good.read_bytes())
    at = data.find(b"room pack 2.0.0")
    data[at:at + 4] = b"ROOM"                           # a changed media file, same size
    before = (kit.data_dir / "packs" / "state.json").read_bytes()
    tampered = room["tmp"] / "tampered.labpack"
    tampered.write_bytes(bytes(data))
    results = lead_client.push_pack(tampered)
    mine = [r for r in results if r.address == kit.url]
    assert mine and not mine[0].ok and mine[0].code == "bad_hash", [r.as_dict() for r in results]
    assert (kit.data_dir / "packs" / "state.json").read_bytes() == before


def _kit_id(server: LiveServer) -> str:
    return requests.get(server.url + "/fleet/v1/hello", timeout=60).json()["kit_id"]


def test_replayed_foreign_and_unsigned_requests_are_refused(room: dict[str, Any],
                                                            tmp_path: Path) -> None:
    lead, kit = room["lead"], room["kits"][1]
    if kit.url not in {m["address"] for m in RoomState(lead.data_dir).members().values()}:
        pair(Teacher(lead.url), kit)
    state = RoomState(lead.data_dir)
    target = _kit_id(kit)
    path = "/fleet/v1/status"
    headers = signed.sign_headers(state.private_key(), "GET", path, target, b"",
                                  now=time.time())
    first = requests.get(kit.url + path, headers=headers, timeout=60)
    assert first.status_code == 200, first.text
    replay = requests.get(kit.url + path, headers=headers, timeout=60)
    assert replay.status_code == 403
    assert replay.json()["error"]["message"] == "这个请求已经收到过一次（重放）。"

    # signed for another kit: refused here
    other = signed.sign_headers(state.private_key(), "GET", path, "another-kit", b"",
                                now=time.time())
    assert requests.get(kit.url + path, headers=other, timeout=60).status_code == 403

    # a kit of another room (its own lead key, never paired here)
    stranger = RoomState(tmp_path / "other-room")
    foreign = signed.sign_headers(stranger.private_key(), "GET", path, target, b"",
                                  now=time.time())
    assert requests.get(kit.url + path, headers=foreign, timeout=60).status_code == 403

    # a body changed after signing
    body = json.dumps({"lab_id": None}).encode()
    h = signed.sign_headers(state.private_key(), "POST", "/fleet/v1/lab", target, body,
                            now=time.time())
    h["Content-Type"] = "application/json"
    changed = json.dumps({"lab_id": "clap_lamp"}).encode()
    assert requests.post(kit.url + "/fleet/v1/lab", data=changed, headers=h,
                         timeout=60).status_code == 403


def test_a_kit_that_is_off_is_reported_not_waited_for(room: dict[str, Any]) -> None:
    lead = room["lead"]
    state = RoomState(lead.data_dir)
    state.add_member("kit-that-is-off", name="off", address=f"http://127.0.0.1:{free_port()}",
                     key="", paired_at=0)
    try:
        status, results = Teacher(lead.url).post("/teacher/room/status")
        off = [r for r in results["results"] if r["kit_id"] == "kit-that-is-off"]
        # refused at connect: reported as off, the others still answered
        assert off and not off[0]["ok"] and off[0]["code"] == "unreachable" and off[0]["error"]
        assert any(r["ok"] for r in results["results"])
    finally:
        state.remove_member("kit-that-is-off")


def test_unpairing_ends_the_trust(room: dict[str, Any]) -> None:
    lead, kit = room["lead"], room["kits"][1]
    teacher = Teacher(lead.url)
    members = RoomState(lead.data_dir).members()
    kit_id = _kit_id(kit)
    if kit_id not in members:
        pair(teacher, kit)
    status, out = teacher.post("/teacher/room/unpair", {"kit_id": kit_id})
    assert status == 200 and out["ok"] == 1, out
    assert kit_id not in RoomState(lead.data_dir).members()
    assert RoomState(kit.data_dir).leads() == {}
    state = RoomState(lead.data_dir)
    h = signed.sign_headers(state.private_key(), "GET", "/fleet/v1/status", kit_id, b"",
                            now=time.time())
    assert requests.get(kit.url + "/fleet/v1/status", headers=h, timeout=60).status_code == 403
