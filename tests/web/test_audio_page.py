"""The sound page against the real app: API (upload, teach, train, settings, bad input), the
no-microphone message, and a headless Chromium run (live meter over SSE, WAV test, offline)."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.io import wavfile

from labkit.drivers.tts import synthesize
from labkit.drivers.wav import wav_bytes

RATE = 16000


@pytest.fixture
def data_dir(tmp_path: Path, model_store: Any) -> Path:
    """A kit data dir whose models/ is the session's store (silero VAD comes from there)."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    return data


def padded(samples: np.ndarray, noise: float = 30.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.concatenate([np.zeros(6000), samples.astype(float), np.zeros(8000)])
    return np.clip(x + rng.standard_normal(x.size) * noise, -32768, 32767).astype(np.int16)


def upload(client: Any, url: str, data: bytes, **form: str) -> Any:
    fields: dict[str, Any] = {"file": (io.BytesIO(data), "clip.wav")}
    fields.update(form)
    return client.post(url, data=fields, content_type="multipart/form-data")


def test_page_renders_in_chinese_with_live_state(client: Any) -> None:
    html = client.get("/audio").get_data(as_text=True)
    assert "声音与语音" in html and "教 AI 小盒子听指令词" in html and "英语语音指令" in html
    assert 'id="mic-missing"' not in html
    state = client.get("/api/audio/state").get_json()
    assert state["microphone"]["connected"] and state["microphone"]["message"] is None
    assert state["vad_error"] is None and state["kws"]["commands"][0] == "lights on"
    home = client.get("/").get_data(as_text=True)
    assert 'href="/audio"' in home


def test_upload_a_wav_in_another_format_is_analysed_and_injected(student_client: Any,
                                                                  runtime: Any) -> None:
    words = padded(synthesize("lights on", "en"))
    # 44.1 kHz stereo float, as a phone would export it
    from scipy.signal import resample_poly

    hi = resample_poly(words.astype(float) / 32768, 441, 160).astype(np.float32)
    buf = io.BytesIO()
    wavfile.write(buf, 44100, np.stack([hi, hi], axis=1))
    r = upload(student_client, "/api/audio/upload", buf.getvalue())
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["injected"] is True and body["clipped"] is False
    assert len(body["speech"]) == 1 and 0.3 < body["speech"][0]["start"] < 0.6
    assert [u["kws"]["command"] for u in body["utterances"]] == ["lights on"]
    # the live monitor hears the injected clip too
    monitor = runtime.services["audio"].monitor
    deadline = time.monotonic() + 30     # heard in real time, then the keyword model runs
    while not monitor.kws.history and time.monotonic() < deadline:
        time.sleep(0.05)
    assert monitor.kws.history and monitor.kws.history[-1]["command"] == "lights on"


@pytest.mark.parametrize("data, status", [(b"", 400), (b"this is not a wav" * 20, 400)])
def test_bad_uploads_are_clear_json_errors(student_client: Any, data: bytes, status: int) -> None:
    r = upload(student_client, "/api/audio/upload", data)
    assert r.status_code == status
    err = r.get_json()["error"]
    assert err["code"] == "bad_audio" and err["message"]


def test_clipped_and_short_uploads(student_client: Any) -> None:
    t = np.arange(RATE) / RATE
    loud = np.clip(3 * 32767 * np.sin(2 * np.pi * 440 * t), -32768, 32767).astype(np.int16)
    body = upload(student_client, "/api/audio/upload", wav_bytes(loud)).get_json()
    assert body["clipped"] is True and body["peak_dbfs"] > -0.1
    short = upload(student_client, "/api/audio/upload", wav_bytes(loud[:1600])).get_json()
    assert short["seconds"] == 0.1 and short["claps"] == 0
    r = upload(student_client, "/api/audio/words/example", wav_bytes(loud[:1600]), word="开灯")
    assert r.status_code == 400 and "太短" in r.get_json()["error"]["message"]


def test_teach_train_and_trigger_the_led(student_client: Any, runtime: Any) -> None:
    voices = ["", "m1", "m3", "f2", "f4"]
    for word in ("开灯", "关灯"):
        for i, v in enumerate(voices):
            for speed in (130, 160):
                clip = padded(synthesize(word, "zh_CN", variant=v, speed=speed), seed=i)
                r = upload(student_client, "/api/audio/words/example", wav_bytes(clip), word=word)
                assert r.status_code == 200, r.get_json()
    r = student_client.post("/api/audio/words/train", json={})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "too_few_classes"
    for i, other in enumerate(["你好", "谢谢", "老师", "苹果", "学校", "今天"]):
        clip = padded(synthesize(other, "zh_CN", variant=voices[i % 5]), seed=i)
        upload(student_client, "/api/audio/words/example", wav_bytes(clip), word="_background")
    r = student_client.post("/api/audio/words/record", json={"word": "_background", "seconds": 3})
    assert r.status_code == 200 and r.get_json()["counts"]["_background"] == 9
    r = student_client.post("/api/audio/words/train", json={"kind": "logistic"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["metrics"]["accuracy"] >= 0.8
    runtime.kit.led.off()
    monitor = runtime.services["audio"].monitor
    runtime.microphone.inject(padded(synthesize("开灯", "zh_CN", variant="m2"), seed=7))
    deadline = time.monotonic() + 30     # heard in real time, then the word model runs
    while not runtime.kit.led.is_lit and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runtime.kit.led.is_lit, list(monitor.commands.history)
    assert student_client.post("/api/audio/words/save", json={}).get_json()["saved"]
    assert (Path(runtime.settings.data_dir) / "audio" / "commands" / "commands.onnx").exists()


def test_settings_and_commands_validate(student_client: Any, runtime: Any) -> None:
    r = student_client.post("/api/audio/settings", json={"kws_threshold": 0.7,
                                                      "level_threshold_db": 80})
    assert r.status_code == 200
    assert r.get_json()["kws"]["threshold"] == 0.7 and r.get_json()["level"]["threshold_db"] == 80
    assert student_client.post("/api/audio/settings", json={"kws_threshold": 5}).status_code == 400
    assert student_client.post("/api/audio/settings", json={"kws_threshold": "x"}).status_code == 400
    assert student_client.post("/api/audio/settings", data="nope").status_code == 400
    r = student_client.post("/api/audio/kws/commands", json={"commands": "red, green, go left"})
    assert r.get_json()["commands"] == ["red", "green", "go left"]
    r = student_client.post("/api/audio/kws/commands", json={"commands": ["red", "zzqxv"]})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_command"
    r = student_client.post("/api/audio/bind", json={"trigger": "double_clap", "action": "explode"})
    assert r.status_code == 400
    r = student_client.post("/api/audio/bind", json={"trigger": "double_clap", "action": "led_toggle"})
    assert r.get_json()["bindings"]["double_clap"] == "led_toggle"
    assert student_client.post("/api/audio/say", json={"text": ""}).status_code == 400
    assert student_client.post("/api/audio/say", json={"text": "你好"}).status_code == 200
    assert runtime.speaker.played[-1]["text"] == "你好"


def test_no_microphone_page_says_so_and_the_kit_keeps_working(tmp_path: Path) -> None:
    from labkit.config import Settings
    from labkit.runtime import KitRuntime
    from labkit.web import create_app

    s = Settings(data_dir=tmp_path / "nomic", hardware="sim", camera="synthetic",
                 microphone=str(tmp_path / "missing.wav"), threads=2)
    rt = KitRuntime(s, start_camera=False)
    try:
        app = create_app(s, rt)
        app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
        client = app.test_client()
        from labkit.store import Store

        roster = Store.for_runtime(rt).roster
        kid = roster.add_student(roster.add_class("一班").id, "王芳")
        assert client.post(f"/student/classes/{kid.class_id}/students/{kid.id}").status_code \
            == 302
        html = client.get("/audio").get_data(as_text=True)
        assert 'id="mic-missing"' in html and "没有找到麦克风" in html
        state = client.get("/api/audio/state").get_json()
        assert state["microphone"]["connected"] is False and state["microphone"]["message"]
        r = client.post("/api/audio/words/record", json={"word": "开灯"})
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "no_microphone"
        clip = padded(synthesize("red", "en"))
        body = upload(client, "/api/audio/upload", wav_bytes(clip)).get_json()
        assert body["injected"] is False and body["utterances"][0]["kws"]["command"] == "red"
        assert client.get("/").status_code == 200 and client.get("/api/bench").status_code == 200
    finally:
        rt.close()


@pytest.mark.browser
def test_browser_live_meter_and_wav_test(inproc_server: Any, page: Any, tmp_path: Path) -> None:
    from labkit.store import Store
    from tests.helpers import pick_a_name

    pick_a_name(page, inproc_server.url, store=Store.for_runtime(inproc_server.runtime))
    page.goto(inproc_server.url + "/audio")
    assert page.locator("h1").inner_text() == "声音与语音"
    page.wait_for_function("document.getElementById('level-db').textContent !== '--'",
                           timeout=15000)
    clip = tmp_path / "test.wav"
    clip.write_bytes(wav_bytes(padded(synthesize("lights off", "en"))))
    page.set_input_files("#test-file", str(clip))
    page.click("#test-upload")
    page.wait_for_function("document.getElementById('test-result').textContent.includes('lights off')",
                           timeout=15000)
    page.wait_for_function("document.getElementById('kws-heard').textContent === 'lights off'",
                           timeout=15000)
    page.wait_for_function("document.getElementById('vad-prob').textContent !== '0.00'",
                           timeout=15000)
    assert page.watch.external == []
    assert page.watch.console_errors == [] and page.watch.page_errors == []
