"""A spoken reflection: recorded from the kit's microphone into memory, heard back, kept
(sealed) only when the child presses Save, then played to the child and their teacher only.

The simulated microphone hears a generated 440 Hz tone (a WAV made here, decoded as the kit
decodes any WAV); the kept file must be that tone, and on disk only as a sealed file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labkit.atrest import SEALED
from labkit.drivers.wav import RATE, read_wav, wav_bytes
from labkit.projects.discovery import PACKAGE_LABS
from labkit.projects.registry import discover

LAB = "talking_robot"   # a primary lab without a camera or a model: it starts at once
CRITERIA = [c["id"] for c in
            discover([(PACKAGE_LABS, "package")]).specs[LAB].data["rubric"]["criteria"]]


def tone_wav(seconds: float, hz: float = 440.0) -> bytes:
    t = np.arange(int(seconds * RATE)) / RATE
    return wav_bytes((0.5 * 32767 * np.sin(2 * np.pi * hz * t)).astype(np.int16))


def loudest_hz(wav: bytes) -> float:
    samples = read_wav(wav).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(samples.size, 1 / RATE)[int(np.argmax(spectrum))])


def media_on_disk(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_symlink()
            and p.read_bytes()[:4] == b"RIFF"]


@pytest.fixture
def run_id(student_client: Any) -> int:
    r = student_client.post(f"/api/labs/{LAB}/start", json={})
    assert r.status_code == 200, r.get_json()
    return int(r.get_json()["run_id"])


def record(client: Any, runtime: Any, run_id: int, seconds: float = 1.0) -> Any:
    runtime.microphone.inject(read_wav(tone_wav(seconds + 2)))   # the child speaks
    return client.post(f"/api/labs/runs/{run_id}/voice", json={"seconds": seconds})


def test_a_voice_answer_is_kept_sealed_only_on_save(student_client: Any, runtime: Any,
                                                    run_id: int, data_dir: Path, app: Any,
                                                    teacher_client: Any) -> None:
    r = record(student_client, runtime, run_id)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["seconds"] == 1.0
    heard = student_client.get(f"/api/labs/runs/{run_id}/voice")
    assert heard.status_code == 200 and heard.mimetype == "audio/wav"
    assert abs(loudest_hz(heard.data) - 440) < 5
    assert media_on_disk(data_dir) == []                 # in memory until the child saves
    r = student_client.post(f"/api/labs/runs/{run_id}/finish",
                            json={"voice": True, "self": {c: 2 for c in CRITERIA}})
    assert r.status_code == 200, r.get_json()
    assert student_client.get(f"/api/labs/runs/{run_id}/voice").status_code in (403, 404)
    from labkit.store import Store

    store = Store.for_runtime(runtime)
    run = store.runs.get(run_id)
    assert run.reflection == "我说出了我的回答。" and run.status == "finished"
    [art] = [a for a in run.artefacts if a.path.endswith(".wav")]
    assert art.name == "我的语音回答"
    assert store.artefacts.path(art).read_bytes().startswith(SEALED)   # sealed at rest
    assert media_on_disk(data_dir) == []
    kid = student_client.student
    url = f"/portfolio/classes/{kid.class_id}/students/{kid.id}/files/{art.id}"
    for client in (student_client, teacher_client):       # the child and their teacher
        r = client.get(url)
        assert r.status_code == 200 and r.mimetype == "audio/wav"
        assert r.data == heard.data
    from tests.conftest import _signed_in_client

    other = store.roster.add_student(kid.class_id, "别的同学")
    stranger = _signed_in_client(app)
    stranger.post(f"/student/classes/{kid.class_id}/students/{other.id}", data={"next": "/"})
    assert stranger.get(url).status_code in (403, 404)


def test_bad_voice_requests_are_refused_and_keep_nothing(student_client: Any, runtime: Any,
                                                         run_id: int, data_dir: Path) -> None:
    r = student_client.post(f"/api/labs/runs/{run_id}/voice", json={"seconds": 30})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_input"
    assert student_client.get(f"/api/labs/runs/{run_id}/voice").status_code == 404
    r = student_client.post(f"/api/labs/runs/{run_id}/finish",      # Save with no recording
                            json={"voice": True, "self": {c: 2 for c in CRITERIA}})
    assert r.status_code == 400 and "录音" in r.get_json()["error"]["message"]
    assert record(student_client, runtime, run_id).status_code == 200
    assert student_client.delete(f"/api/labs/runs/{run_id}/voice").get_json() == \
        {"discarded": True}                              # thrown away: gone from memory
    assert student_client.get(f"/api/labs/runs/{run_id}/voice").status_code == 404
    from labkit.store import Store

    assert Store.for_runtime(runtime).runs.get(run_id).status != "finished"
    assert media_on_disk(data_dir) == []


def test_only_primary_lab_pages_offer_a_voice_answer(student_client: Any) -> None:
    page = student_client.get(f"/labs/{LAB}").get_data(as_text=True)
    assert 'id="voice-record"' in page and "voice_answer.js" in page
    older = next(i for i, s in discover([(PACKAGE_LABS, "package")]).specs.items()
                 if s.band != "experience")
    r = student_client.get(f"/labs/{older}")
    assert r.status_code == 200 and 'id="lab-steps"' in r.get_data(as_text=True)
    assert 'id="voice-record"' not in r.get_data(as_text=True)     # older students write
