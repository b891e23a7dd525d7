"""The overlay kinds and the page partials, rendered by the real app (no browser)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import render_template_string

from labkit.web.overlay import KINDS, overlay_kind, overlay_kinds, overlay_labels


def test_every_overlay_kind_names_the_topic_its_detector_publishes() -> None:
    from labkit.vision import (ColourTracker, EmotionClassifier, FaceDetector, HandTracker,
                               PeopleDetector, PoseTracker, Segmenter, ShapeFinder, TextReader)

    detectors = {"faces": FaceDetector, "hands": HandTracker, "pose": PoseTracker,
                 "segmentation": Segmenter, "text": TextReader, "colour": ColourTracker,
                 "shapes": ShapeFinder, "emotion": EmotionClassifier, "people": PeopleDetector}
    assert set(detectors) == set(KINDS)
    for kind, cls in detectors.items():
        assert KINDS[kind] == cls.topic, kind


def test_overlay_js_knows_the_same_kinds_and_topics() -> None:
    from pathlib import Path

    import labkit.web

    js = (Path(labkit.web.__file__).parent / "static" / "js" / "overlay.js").read_text()
    block = js[js.index("const TOPICS = {"):js.index("};", js.index("const TOPICS = {"))]
    pairs = dict(re.findall(r'(\w+): "(vision\.\w+)"', block))
    assert pairs == KINDS


def test_overlay_names_are_normalised_and_unknown_ones_refused() -> None:
    assert overlay_kinds(["face", "hands", "faces", "ocr", "color"]) == [
        "faces", "hands", "text", "colour"]
    assert overlay_kinds(None) == [] and overlay_kind("mask") == "segmentation"
    with pytest.raises(ValueError, match="unknown overlay 'wings'.*faces"):
        overlay_kind("wings")
    with pytest.raises(ValueError, match="wings"):
        overlay_kinds(["faces", "wings"], strict=True)
    assert overlay_kinds(["wings", "pose"]) == ["pose"]      # a page never fails over it


def test_overlay_labels_are_translated(app: Any) -> None:
    with app.test_request_context("/?lang=zh_CN"):
        zh = overlay_labels()
    with app.test_request_context("/?lang=en"):
        en = overlay_labels()
    assert zh["gestures"]["fist"] == "握拳" and en["gestures"]["fist"] == "fist"
    assert zh["colours"]["red"] == "红色" and "{label}" in zh["maybe"]


def render(app: Any, source: str, **context: Any) -> str:
    with app.test_request_context("/?lang=zh_CN"):
        return render_template_string(source, **context)


def test_camera_partial_declares_its_overlays(app: Any) -> None:
    html = render(app, '{% with overlays=["face", "hands"] %}{% include "_camera.html" %}'
                       '{% endwith %}')
    assert 'data-overlays="faces,hands"' in html
    assert 'id="overlay-strings"' in html and "js/overlay.js" in html
    plain = render(app, '{% include "_camera.html" %}')
    assert "data-overlays" not in plain and 'id="camera-view"' in plain
    # an unknown overlay in a declaration is left out, the page still renders
    odd = render(app, '{% with overlays=["wings", "pose"] %}{% include "_camera.html" %}'
                      '{% endwith %}')
    assert 'data-overlays="pose"' in odd


def test_bench_partial_lists_its_devices_and_offers_show_all(app: Any) -> None:
    html = render(app, '{% with devices=["led", "button"] %}{% include "_bench.html" %}'
                       '{% endwith %}')
    assert 'data-devices="led,button"' in html and 'id="bench-show-all"' in html
    assert "显示全部设备" in html
    everything = render(app, '{% include "_bench.html" %}')
    assert 'data-devices=""' in everything and 'id="bench-show-all"' not in everything


def test_microphone_partial_and_speak_button(app: Any) -> None:
    html = render(app, '{% include "_microphone.html" %}')
    assert 'id="mic-meter"' in html and "声音有多大" in html and 'id="mic-claps"' not in html
    assert 'data-start="true"' in html
    assert 'id="mic-claps"' in render(
        app, '{% with mic_claps=true %}{% include "_microphone.html" %}{% endwith %}')
    assert 'data-start="false"' in render(
        app, '{% with mic_start=false %}{% include "_microphone.html" %}{% endwith %}')
    button = render(app, '{% from "_speak.html" import speak_button %}'
                         '{{ speak_button(text, id="s1") }}', text='小灯<亮>了 "好"')
    assert 'data-speak="小灯&lt;亮&gt;了 &#34;好&#34;"' in button
    assert 'aria-label="读给我听"' in button and 'id="s1"' in button


def test_partials_hold_no_inline_script(app: Any) -> None:
    html = render(app, '{% from "_speak.html" import speak_button %}{{ speak_button("x") }}'
                       '{% with overlays=["faces"], devices=["led"] %}{% include "_camera.html" %}'
                       '{% include "_bench.html" %}{% include "_microphone.html" %}{% endwith %}')
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.findall(r"<[^>]*\son[a-z]+=", html)          # no inline event handlers
