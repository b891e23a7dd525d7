"""Exports leave the kit encrypted: the teacher's export passphrase locks every download (an
AES-256 ZIP), a plain file only by explicit choice; every byte of a downloaded export is read
and none holds a picture, a sound or a child's name in clear.

How "every byte" is read: a ZIP's headers (entry names, sizes, the AES extra field) are in
clear and are searched for everything, short magic numbers included; each entry's payload is
AES-CTR output, searched for the children's names (UTF-8 and GBK) and for signatures of 8
bytes or more — including the first 16 bytes of the very picture and sound that went in — so
a random ciphertext cannot match by chance and the test cannot flake.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import struct
import zipfile
from typing import Any

import pytest

from labkit import exportlock
from labkit.atrest import SEALED
from labkit.drivers.wav import wav_bytes
from tests.reliability.test_at_rest_proof import CHILD, CLASS, MAGIC, OTHER_CHILD
from tests.security.web_helpers import browser, pick, store_of, teacher

PASSPHRASE = "blue kite 42 river"
PICTURE = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01" + bytes(range(200))
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)
SOUND = wav_bytes(__import__("numpy").zeros(800, dtype="int16"))
# long enough that AES output never matches by chance (2^-64 per place)
LONG_SIGNATURES = {"PNG": MAGIC["PNG"], "WAVE": MAGIC["WAVE"], "picture": PICTURE[:16],
                   "png file": PNG[:16], "sound": SOUND[:16]}
NAMES = [n.encode(enc) for n in (CHILD, OTHER_CHILD) for enc in ("utf-8", "gbk")]


@pytest.fixture
def kit(app: Any) -> dict[str, Any]:
    """A class of two with a kept photo, picture and sound each, and a signed-in teacher."""
    store = store_of(app)
    school_class = store.roster.add_class(CLASS)
    kids = store.roster.add_students(school_class.id, [CHILD, OTHER_CHILD])
    for kid in kids:
        run = store.runs.start(kid.id, lesson_id="face_led", project_id="face_led",
                               steps_total=3)
        store.artefacts.save(run, "sample", f"{kid.name}的照片", PICTURE, ".jpg")
        store.artefacts.save(run, "sample", f"{kid.name}的画", PNG, ".png")
        store.artefacts.save(run, "sample", f"{kid.name}的声音", SOUND, ".wav")
        store.runs.end(run, "finished")
    return {"class": school_class, "kids": kids, "teacher": teacher(app)}


def _set(client: Any, passphrase: str = PASSPHRASE, confirm: str | None = None) -> Any:
    return client.post("/teacher/exports/passphrase",
                       data={"passphrase": passphrase,
                             "confirm": passphrase if confirm is None else confirm})


def _payload_spans(blob: bytes) -> list[tuple[int, int]]:
    """Where each entry's encrypted payload lies in the ZIP (the rest is headers)."""
    spans = []
    with zipfile.ZipFile(io.BytesIO(blob)) as zf:
        for info in zf.infolist():
            assert info.flag_bits & 0x1 and info.compress_type == 99, info   # WinZip AES
            start = info.header_offset
            name_len, extra_len = struct.unpack("<HH", blob[start + 26:start + 30])
            data = start + 30 + name_len + extra_len
            spans.append((data, data + info.compress_size))
    return sorted(spans)


def assert_no_clear_child_data(blob: bytes) -> None:
    """Every byte of an encrypted export: no picture, sound or name in clear."""
    spans = _payload_spans(blob)
    clear, at = bytearray(), 0
    for start, end in spans:
        clear += blob[at:start]
        at = end
    clear += blob[at:]
    problems = [f"headers: {what}" for what, magic in MAGIC.items()
                if magic in clear.replace(b"PK\x03\x04", b"")]     # bar the ZIP's own
    problems += [f"{what} bytes" for what, sig in LONG_SIGNATURES.items() if sig in blob]
    problems += ["a child's name" for name in NAMES if name in blob]
    assert not problems, problems


EXPORTS = ("/portfolio/classes/{cid}/export.csv",
           "/portfolio/classes/{cid}/students/{sid}/export.zip",
           "/teacher/classes/{cid}/grades.csv", "/teacher/classes/{cid}/grades.xlsx",
           "/teacher/report.csv", "/teacher/report.xlsx", "/teacher/room/export.csv")


def test_every_export_is_an_aes_zip_under_the_passphrase_with_nothing_in_clear(
        app: Any, kit: dict[str, Any]) -> None:
    client, cid = kit["teacher"], kit["class"].id
    data_dir = store_of(app).data_dir
    assert _set(client).status_code == 302
    before = {p for p in data_dir.rglob("*") if p.is_file()}
    r = client.get(f"/portfolio/classes/{cid}/export.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert CHILD not in r.headers["Content-Disposition"]
    files = exportlock.open_encrypted_zip(r.data, PASSPHRASE)
    csv_text = files["portfolio.csv"].decode("utf-8-sig")
    assert CHILD in csv_text and OTHER_CHILD in csv_text
    pictures = [n for n in files if n.endswith(".jpg")]
    assert len(pictures) == 2 and all(files[n] == PICTURE for n in pictures)
    assert sum(files[n] == SOUND for n in files) == 2 and sum(n.endswith(".png") for n in files)
    assert CHILD in files["report.html"].decode("utf-8")
    with pytest.raises(RuntimeError):
        exportlock.open_encrypted_zip(r.data, "wrong passphrase")
    assert_no_clear_child_data(r.data)
    for url in EXPORTS:
        r = client.get(url.format(cid=cid, sid=kit["kids"][0].id))
        assert r.status_code == 200, (url, r.get_data(as_text=True)[:300])
        assert r.data.startswith(b"PK\x03\x04") and r.mimetype == "application/zip", url
        assert all(exportlock.open_encrypted_zip(r.data, PASSPHRASE).values()), url
        assert_no_clear_child_data(r.data)
    # built in memory and streamed: no export is cached on the kit for a purge to miss
    after = {p for p in data_dir.rglob("*") if p.is_file()}
    assert not {p.name for p in after - before} - {"labkit.sqlite3-wal", "labkit.sqlite3-shm"}


def test_no_passphrase_is_refused_clearly_and_plain_needs_the_explicit_choice(
        kit: dict[str, Any]) -> None:
    client, cid = kit["teacher"], kit["class"].id
    page = client.get(f"/portfolio/classes/{cid}/export.zip")
    assert page.status_code == 409
    html = page.get_data(as_text=True)
    assert 'id="set-passphrase-link"' in html and "/teacher/exports" in html
    api = client.get(f"/teacher/classes/{cid}/grades.csv",
                     headers={"Accept": "application/json"})
    assert api.status_code == 409 and api.get_json()["error"]["code"] == "conflict"
    assert client.get("/teacher/room/export.csv").status_code == 409
    listing = client.get(f"/portfolio/classes/{cid}").get_data(as_text=True)
    assert "no-export-passphrase" in listing and 'href="/teacher/exports"' in listing
    url = f"/portfolio/classes/{cid}/export.csv"
    for query in ("?plain=1", "?plain=", "?plain=yes"):
        assert client.get(url + query).status_code == 400, query
    r = client.get(url + "?plain=understood")          # the teacher's explicit choice
    assert r.status_code == 200 and CHILD in r.data.decode("utf-8-sig")
    assert _set(client).status_code == 302
    assert client.get(url).data.startswith(b"PK")     # the default is the encrypted ZIP
    plain_zip = client.get(f"/portfolio/classes/{cid}/export.zip?plain=understood")
    assert zipfile.ZipFile(io.BytesIO(plain_zip.data)).read("portfolio.csv")
    page = client.get(f"/portfolio/classes/{cid}").get_data(as_text=True)
    assert 'name="plain" value="understood"' in page and 'id="export-class-zip-plain"' in page
    assert "no-export-passphrase" not in page


def test_students_export_encrypted_and_cannot_set_or_read_the_passphrase(
        app: Any, kit: dict[str, Any]) -> None:
    cid, me = kit["class"].id, kit["kids"][0]
    kid = browser(app)
    assert pick(kid, me).status_code == 302
    url = f"/portfolio/classes/{cid}/students/{me.id}/export.csv"
    assert kid.get(url).status_code == 409                 # no passphrase yet
    assert kid.get(url + "?plain=understood").status_code == 403
    assert kid.get("/teacher/exports").status_code in (302, 401, 403)
    assert _set(kid, "a new one 12345").status_code in (302, 401, 403)
    assert not exportlock.load(store_of(app).data_dir).is_set
    assert _set(kit["teacher"]).status_code == 302
    r = kid.get(url)
    assert r.status_code == 200 and exportlock.open_encrypted_zip(r.data, PASSPHRASE)
    assert_no_clear_child_data(r.data)
    assert kid.post("/teacher/exports/students",
                    data={"students_plain": "yes"}).status_code in (302, 401, 403)
    assert kid.get(url).data.startswith(b"PK")
    assert kit["teacher"].post("/teacher/exports/students",
                               data={"students_plain": "yes"}).status_code == 302
    assert kid.get(url).data.startswith("\ufeff".encode())   # the plain CSV, as allowed
    lock = exportlock.load(store_of(app).data_dir)
    assert lock.passphrase == PASSPHRASE and lock.students_plain
    page = kit["teacher"].get("/teacher/exports").get_data(as_text=True)
    assert PASSPHRASE not in page                           # never shown again, even to her
    stored = (store_of(app).data_dir / exportlock.PASSPHRASE_FILE).read_bytes()
    assert PASSPHRASE.encode() not in stored and stored.startswith(SEALED)


def test_the_passphrase_form_checks_input_and_csrf(app: Any, kit: dict[str, Any]) -> None:
    client = kit["teacher"]
    assert _set(client, "short1").status_code == 400
    assert _set(client, PASSPHRASE, PASSPHRASE + "x").status_code == 400
    assert _set(client, "密码密码密码密码").status_code == 400
    token = client.environ_base.pop("HTTP_X_CSRFTOKEN")
    assert _set(client).status_code == 400                 # no CSRF token: refused
    assert not exportlock.load(store_of(app).data_dir).is_set
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    assert _set(client).status_code == 302
    assert _set(client, "another one 777").status_code == 302      # changeable
    assert exportlock.load(store_of(app).data_dir).passphrase == "another one 777"


def test_collected_room_records_are_sealed_and_lose_a_purged_childs_runs(
        app: Any, kit: dict[str, Any]) -> None:
    """The one export-like copy a kit keeps: the records a lead kit collected from its room."""
    from labkit.fleet.state import RoomState

    store = store_of(app)
    me, other = kit["kids"]
    uuid = store.identity.uuid("students", me.id)
    member = {"format": 1, "kit_id": "member-kit",
              "classes": [{"uuid": "c-1", "name": CLASS}],
              "students": [{"uuid": uuid, "class_uuid": "c-1", "name": CHILD, "student_no": ""},
                           {"uuid": "typed-there", "class_uuid": "c-1", "name": CHILD,
                            "student_no": ""},
                           {"uuid": "s-2", "class_uuid": "c-1", "name": OTHER_CHILD,
                            "student_no": ""}],
              "runs": [{"uuid": f"r-{i}", "student_uuid": who, "lesson_id": "face_led",
                        "status": "finished", "steps_passed": 1, "steps_total": 3,
                        "started_at": 1.0, "scores": []}
                       for i, who in enumerate((uuid, "typed-there", "s-2"))]}
    room = RoomState(store.data_dir)
    room.save_collected("member-kit", member)
    stored = next((store.data_dir / "fleet" / "collected").glob("*.json")).read_bytes()
    assert stored.startswith(SEALED) and not any(name in stored for name in NAMES)
    r = kit["teacher"].post(f"/teacher/classes/{kit['class'].id}/students/{me.id}/purge")
    assert r.status_code == 302
    (left,) = room.collected()
    assert [run["student_uuid"] for run in left["runs"]] == ["s-2"]
    assert store.runs.for_student(me.id) == [] and store.runs.for_student(other.id)


SEVEN_ZIP = shutil.which("7zz") or shutil.which("7z")


@pytest.mark.skipif(SEVEN_ZIP is None, reason="7-Zip is not installed (Debian: apt install 7zip)")
def test_7zip_opens_an_export_with_the_passphrase_and_not_without(tmp_path: Any) -> None:
    """What a teacher does on a school PC, with the same 7-Zip (AES-256 Deflate)."""
    archive = tmp_path / "export.zip"
    archive.write_bytes(exportlock.encrypted_zip({"portfolio.csv": CHILD.encode(),
                                                  "files/1/2.jpg": PICTURE}, PASSPHRASE))
    listing = subprocess.run([SEVEN_ZIP, "l", "-slt", str(archive)], capture_output=True,
                             text=True, check=True).stdout
    assert listing.count("Method = AES-256 Deflate") == 2
    done = subprocess.run([SEVEN_ZIP, "x", "-y", f"-p{PASSPHRASE}", f"-o{tmp_path / 'ok'}",
                           str(archive)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "ok" / "files" / "1" / "2.jpg").read_bytes() == PICTURE
    wrong = subprocess.run([SEVEN_ZIP, "x", "-y", "-pwrong passphrase", f"-o{tmp_path / 'no'}",
                            str(archive)], capture_output=True, text=True)
    assert wrong.returncode != 0
