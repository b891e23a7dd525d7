"""The reading machine's read-once logic, without a camera: fed OCR texts directly."""

from __future__ import annotations

import time

from labkit.vision.read_aloud import ReadAloud, language_of


def _wait_said(device: ReadAloud, text: str) -> None:
    deadline = time.monotonic() + 5
    while device.said != text and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_text_is_read_once_after_two_matching_results() -> None:
    said: list[tuple[str, str]] = []
    device = ReadAloud(None, lambda text, lang: said.append((text, lang)), min_results=2)
    assert device.update("HELLO") is None             # one sighting: maybe a misread
    assert device.update("HELLO") == "HELLO"
    assert device.update("HELLO") is None             # held still: not repeated
    _wait_said(device, "HELLO")
    assert said == [("HELLO", "en")] and device.value == 1 and device.spoken == "HELLO"
    device.update("你 好")
    assert device.update("你 好") == "你 好"
    _wait_said(device, "你 好")
    assert said[-1] == ("你 好", "zh_CN") and device.value == 2


def test_the_same_card_shown_again_is_read_again_but_a_flicker_is_not() -> None:
    device = ReadAloud(None, None, min_results=2)
    for text in ("HELLO", "HELLO", "", "HELLO", "HELLO"):
        device.update(text)
    assert device.value == 2
    for text in ("HELL0", "HELLO"):                   # a one-frame misread in between
        device.update(text)
    assert device.value == 2


def test_a_failing_speaker_is_logged_not_raised() -> None:
    def broken(text: str, lang: str) -> None:
        raise RuntimeError("no speaker")

    device = ReadAloud(None, broken, min_results=1)
    assert device.update("HELLO") == "HELLO"
    time.sleep(0.2)
    assert device.said == "" and not device.is_active


def test_language_of() -> None:
    assert language_of("读书机 reads") == "zh_CN" and language_of("Hello, world") == "en"


def test_exercise_scene_depth_is_checked() -> None:
    import pytest

    from labkit.drivers import scenes

    full = scenes.render("exercise", {"exercise": "jumping_jack", "period": 2}, 1.0)
    half = scenes.render("exercise", {"exercise": "jumping_jack", "period": 2, "depth": 0.4}, 1.0)
    assert (full != half).any()
    with pytest.raises(scenes.SceneError):
        scenes.render("exercise", {"exercise": "jumping_jack", "depth": 2}, 1.0)
