"""The talking-robot panel and its route: POST /api/audio/say with speed, pitch and purpose.

The route refuses out-of-range sliders and unknown purposes with a 400, says the text with
espeak-ng at the asked speed and pitch, and publishes `audio.said` with a digest of the
sentence, never the sentence. In Chromium a student types a sentence on the talking_robot
page, presses "Say it!" and the step turns green.
"""

from __future__ import annotations

from typing import Any

import pytest


def test_say_refuses_bad_sliders_and_purposes(student_client: Any) -> None:
    for body, key in (({"text": "你好", "speed": 500}, "speed"),
                      ({"text": "你好", "pitch": -1}, "pitch"),
                      ({"text": "你好", "speed": "fast"}, "speed")):
        r = student_client.post("/api/audio/say", json=body)
        assert r.status_code == 400, body
        assert r.get_json()["error"]["code"] == "bad_input" and key in r.get_json()["error"]["message"]
    r = student_client.post("/api/audio/say", json={"text": "你好", "purpose": "--stdout"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_input"


def test_say_publishes_a_digest_not_the_sentence(student_client: Any, runtime: Any) -> None:
    sub = runtime.bus.subscribe("audio.said")
    try:
        slow = student_client.post("/api/audio/say", json={
            "text": "My name is Lily", "lang": "en", "speed": 90, "pitch": 80, "purpose": "talk"})
        assert slow.status_code == 200 and slow.get_json()["speed"] == 90
        seconds_slow = runtime.speaker.played[-1]["seconds"]
        fast = student_client.post("/api/audio/say", json={
            "text": "my  name is lily", "lang": "en", "speed": 250, "purpose": "talk"})
        assert fast.status_code == 200
        assert runtime.speaker.played[-1]["seconds"] < seconds_slow   # the speed reached espeak-ng
        first, second = sub.get(timeout=5), sub.get(timeout=5)
    finally:
        sub.close()
    assert first.data["purpose"] == "talk" and first.data["lang"] == "en"
    assert (first.data["speed"], first.data["pitch"]) == (90, 80)
    assert first.data["sentence"] == second.data["sentence"]      # same words, same digest
    assert "Lily" not in repr(first.data) and "lily" not in repr(second.data)
    plain = student_client.post("/api/audio/say", json={"text": "读一读"})
    assert plain.status_code == 200 and plain.get_json()["speed"] == 150


@pytest.mark.browser
@pytest.mark.slow
def test_a_student_types_a_sentence_and_the_step_turns_green(inproc_server: Any, page: Any) -> None:
    from labkit.store import Store
    from tests.helpers import pick_a_name

    rt = inproc_server.runtime
    pick_a_name(page, inproc_server.url, store=Store.for_runtime(rt))
    page.goto(inproc_server.url + "/labs/talking_robot")
    page.wait_for_selector("#talk-panel")
    assert page.locator("#camera-view").count() == 0
    assert page.locator(".talk-pick").count() == 8
    page.click("#lab-start")
    page.wait_for_function("document.getElementById('lab-start').disabled || "
                           "document.getElementById('lab-status').textContent.length > 0",
                           timeout=10000)
    page.fill("#talk-text", "我喜欢上学")
    page.click("#talk-say")
    page.wait_for_selector("#step-first.passed", timeout=15000)
    assert rt.speaker.played[-1]["text"] == "我喜欢上学"
    page.fill("#talk-text", "Good morning!")
    page.check("#talk-lang-en")
    page.fill("#talk-speed", "200")
    page.fill("#talk-pitch", "80")
    page.click("#talk-say")
    for step in ("own", "languages", "voice"):
        page.wait_for_selector(f"#step-{step}.passed", timeout=15000)
    assert page.locator("#talk-status").get_attribute("data-said") == "2"
    page.fill("#talk-text", "   ")
    page.click("#talk-say")
    assert page.locator("#talk-error").is_visible()           # the error sits by the button
    assert page.watch.console_errors == [] and page.watch.page_errors == []
    assert page.watch.external == []
