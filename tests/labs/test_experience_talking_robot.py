"""The talking robot's checks.py on hand-written logs: what counts as two sentences, both
languages and a changed voice (the demo shows only that the happy path turns green)."""

from __future__ import annotations

from typing import Any

from labkit.projects.discovery import PACKAGE_LABS
from labkit.projects.registry import discover
from tests.unit.projects.test_projects_vocabulary import make_log

SPEC = discover([(PACKAGE_LABS, "package")]).specs["talking_robot"]


def check(name: str, log: Any) -> tuple[bool, float]:
    fn, _what = SPEC.checks[name]
    result = fn(log)
    return result.passed, result.count


def said(lang: str = "zh_CN", sentence: str = "a", speed: int = 150, pitch: int = 50) -> dict:
    return {"purpose": "talk", "lang": lang, "sentence": sentence, "speed": speed,
            "pitch": pitch, "chars": 5}


def test_the_same_sentence_twice_is_one_sentence() -> None:
    assert check("two_sentences", make_log(5, said=[(1, said()), (2, said())])) == (False, 1)
    assert check("two_sentences", make_log(5, said=[(1, said()), (2, said(sentence="b"))])) \
        == (True, 2)


def test_both_languages_needs_chinese_and_english() -> None:
    only_zh = make_log(5, said=[(1, said(sentence="a")), (2, said(sentence="b"))])
    assert check("both_languages", only_zh) == (False, 1)
    both = make_log(5, said=[(1, said()), (2, said("en", "b"))])
    assert check("both_languages", both) == (True, 2)


def test_a_changed_voice_needs_speed_and_pitch() -> None:
    assert check("changed_voice", make_log(5, said=[(1, said())])) == (False, 0)
    assert check("changed_voice", make_log(5, said=[(1, said(speed=200))])) == (False, 1)
    assert check("changed_voice", make_log(5, said=[(1, said(speed=200)), (2, said(pitch=80))])) \
        == (True, 2)


def test_the_lab_asks_for_the_talk_panel_and_logs_only_talk() -> None:
    assert SPEC.panels()["parts"] == ["talk"]
    assert SPEC.panels()["camera"] is False and SPEC.panels()["devices"] == []
    assert SPEC.events()["said"] == {"topic": "audio.said", "where": {"purpose": "talk"}}
