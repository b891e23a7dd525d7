"""The shared overlay module and page partials in a real headless Chromium, against the real
app (waitress in-process, synthetic camera, simulated microphone and bench).

The vision pages draw through LabkitOverlay; a page built from the partials alone (camera with
declared overlays, bench limited to two devices, sound meter, read-aloud) works as a lab page
will use them."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pytest

from tests.conftest import InProcessServer

pytestmark = pytest.mark.browser

PANELS_PAGE = """{% extends "base.html" %}{% from "_speak.html" import speak_button %}
{% block content %}
<div id="page-error" class="page-error" hidden></div>
<p id="say-me" data-speak>你好，小朋友</p>
<p id="step-two">第二步 {{ speak_button("第二步：挥挥手", id="speak-two") }}</p>
<p>结果：<span id="live-result" data-speak data-speak-after></span></p>
<div class="kit-layout">
  <section class="card">{% with overlays=overlays %}{% include "_camera.html" %}{% endwith %}</section>
  {% with devices=devices %}{% include "_bench.html" %}{% endwith %}
</div>
{% with mic_claps=true, mic_start=mic_start %}{% include "_microphone.html" %}{% endwith %}
{% endblock %}
{% block scripts %}<script src="{{ url_for('static', filename='js/bench.js') }}"></script>{% endblock %}
"""


STRICT_CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
              "script-src 'self'; connect-src 'self'; media-src 'self' blob:")


def add_panels_page(app: Any) -> None:
    """One test page that includes the partials the way a lab page does."""
    from flask import render_template_string, request

    from labkit.web.access import ANONYMOUS, allow

    @allow(ANONYMOUS)
    def panels() -> str:
        devices = [d for d in request.args.get("devices", "button,led").split(",") if d]
        overlays = [k for k in request.args.get("overlays", "hands,faces").split(",") if k]
        return render_template_string(PANELS_PAGE, devices=devices, overlays=overlays,
                                      mic_start=request.args.get("mic_start") != "0")

    app.add_url_rule("/test/panels", "test_panels", panels)


@pytest.fixture
def panels_server(app: Any, runtime: Any) -> Iterator[InProcessServer]:
    add_panels_page(app)
    server = InProcessServer(app, runtime)
    yield server
    server.stop()


@pytest.fixture
def strict_csp_server(app: Any, runtime: Any) -> Iterator[InProcessServer]:
    """The panels page served with a script policy that refuses every inline script."""
    add_panels_page(app)

    @app.after_request
    def _strict(response: Any) -> Any:
        response.headers["Content-Security-Policy"] = STRICT_CSP
        return response

    server = InProcessServer(app, runtime)
    yield server
    server.stop()


def sign_in_student(page: Any, server: Any) -> None:
    """Pick a name as a child does: pressing the bench's inputs and asking the kit to speak
    change what the kit does, which needs a student session."""
    from labkit.store import Store

    roster = Store.for_runtime(server.runtime).roster
    school_class = roster.add_class("测试班")
    roster.add_student(school_class.id, "小明")
    page.goto(server.url + "/student")
    page.locator(".pick-button", has_text="测试班").click()
    page.locator(".pick-button", has_text="小明").click()
    page.wait_for_selector("#nav-student")


def hand_payload(cx: float = 320, cy: float = 260, gesture: str = "fist") -> dict[str, Any]:
    """A hand result as HandTracker publishes it: 21 landmarks fanned out from the wrist."""
    marks = [[cx, cy + 80, 0.0]]
    for finger in range(5):
        angle = math.radians(-150 + finger * 30)
        for joint in range(1, 5):
            r = 25 * joint
            marks.append([cx + r * math.cos(angle), cy + 80 + r * math.sin(angle) - 40, 0.0])
    xs, ys = [m[0] for m in marks], [m[1] for m in marks]
    box = {"x": min(xs), "y": min(ys), "w": max(xs) - min(xs), "h": max(ys) - min(ys)}
    return {"hands": [{"landmarks": marks, "score": 0.97, "handedness": "Right",
                       "handedness_score": 0.9, "box": box, "gesture": gesture, "fingers": 0,
                       "rps": "rock", "roi": [cx, cy, 200, 200, 0.0]}],
            "width": 640, "height": 480, "detected": True, "seq": 1, "ms": 2.0}


def face_payload() -> dict[str, Any]:
    return {"faces": [{"box": {"x": 40, "y": 40, "w": 120, "h": 120}, "score": 0.93,
                       "keypoints": [[80, 80], [120, 80], [100, 100], [100, 130], [50, 90],
                                     [150, 90]]}],
            "width": 640, "height": 480, "seq": 1, "ms": 1.5}


class Publisher:
    """Publish a result on the kit's event bus a few times a second, as a detector would."""

    def __init__(self, bus: Any, topic: str, payload: dict[str, Any]) -> None:
        self.bus, self.topic, self.payload = bus, topic, payload
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.bus.publish(self.topic, self.payload)

    def __enter__(self) -> "Publisher":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self.thread.join(timeout=2)


def painted(page: Any, x0: float, y0: float, x1: float, y1: float) -> int:
    """Non-transparent overlay pixels inside a region given as fractions of the frame."""
    return page.evaluate("""([x0, y0, x1, y1]) => {
        const c = document.getElementById('camera-overlay');
        const d = c.getContext('2d').getImageData(Math.floor(x0 * c.width), Math.floor(y0 * c.height),
            Math.max(1, Math.floor((x1 - x0) * c.width)), Math.max(1, Math.floor((y1 - y0) * c.height))).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
        return n; }""", [x0, y0, x1, y1])


def drawn(page: Any, kind: str) -> int:
    return page.evaluate(f"(window.LabkitOverlay.lastDrawn['{kind}'] || 0)")


# ---- the vision pages draw through the shared module ---------------------------------------

@pytest.fixture
def data_dir(tmp_path: Path, model_store: Any) -> Path:
    from tests.unit.vision.conftest import with_models

    return with_models(tmp_path / "data", model_store)


def test_face_page_draws_the_synthetic_face_through_the_module(inproc_server: Any,
                                                               page: Any) -> None:
    inproc_server.runtime.camera.source.set_scene(face_walks=False, shapes=False)
    page.goto(inproc_server.url + "/vision/face")
    page.wait_for_function("document.getElementById('face-count').textContent === '1'",
                           timeout=20000)
    page.wait_for_function("window.LabkitOverlay.lastDrawn.faces > 2", timeout=10000)
    # the canvas is sized to the picture as shown, not to the camera's frame
    size = page.evaluate("""() => { const c = document.getElementById('camera-overlay');
        return [c.width, c.height, c.clientWidth, c.clientHeight, devicePixelRatio]; }""")
    assert size[0] == round(size[2] * size[4]) and size[1] == round(size[3] * size[4])
    # the synthetic face is drawn in the middle of the picture (x 0.5±0.16, y 0.42±0.2)
    assert painted(page, 0.28, 0.12, 0.72, 0.72) > 300
    assert painted(page, 0.0, 0.8, 0.25, 1.0) == 0        # nothing where no face is
    payload = page.evaluate("window.LabkitOverlay.lastPayload.faces")
    assert len(payload["faces"]) == 1 and payload["width"] == 640
    assert page.watch.console_errors == [] and page.watch.page_errors == []


def test_hands_page_draws_the_skeleton_and_label_through_the_module(inproc_server: Any,
                                                                    page: Any) -> None:
    runtime = inproc_server.runtime
    page.goto(inproc_server.url + "/vision/hands")
    page.wait_for_function("document.getElementById('camera-overlay').dataset.drawn === '1'",
                           timeout=30000)
    # the synthetic scene has no hand: stop the frames, then publish a hand as the tracker would
    runtime.camera.source.unplugged = True
    time.sleep(1.0)
    with Publisher(runtime.bus, "vision.hands", hand_payload()):
        page.wait_for_function("document.getElementById('hand-gesture').textContent === '握拳'",
                               timeout=10000)
        page.wait_for_function(
            "(window.LabkitOverlay.lastPayload.hands || {hands: []}).hands.length === 1",
            timeout=10000)
        # bones from the wrist (320, 340) up to the fingertips: drawn around x 0.36–0.64
        assert painted(page, 0.33, 0.35, 0.67, 0.75) > 200
        assert painted(page, 0.0, 0.0, 0.2, 0.2) == 0
    runtime.camera.source.unplugged = False
    assert page.watch.page_errors == []


# ---- a page made of the partials -----------------------------------------------------------

def test_camera_partial_attaches_declared_overlays_and_draws_each_kind(panels_server: Any,
                                                                       page: Any) -> None:
    page.goto(panels_server.url + "/test/panels?overlays=hands,face")
    assert page.locator("#camera-overlay").get_attribute("data-overlays") == "hands,faces"
    page.wait_for_function("document.getElementById('camera-view').naturalWidth > 0",
                           timeout=10000)
    bus = panels_server.runtime.bus
    with Publisher(bus, "vision.hands", hand_payload()), \
            Publisher(bus, "vision.face", face_payload()):
        page.wait_for_function("window.LabkitOverlay.lastDrawn.hands > 0 && "
                               "window.LabkitOverlay.lastDrawn.faces > 0", timeout=10000)
        assert painted(page, 0.33, 0.35, 0.67, 0.75) > 200        # the hand
        assert painted(page, 0.05, 0.07, 0.26, 0.35) > 100        # the face box at (40, 40)
    # a kind attached after the page's event stream opened still gets its events
    page.evaluate("""() => LabkitOverlay.attach(document.getElementById('camera-overlay'),
        document.getElementById('camera-view'), ['segmentation'])""")
    seg = {"grid": ["1111", "1111", "1111"], "coverage": 1.0, "width": 640, "height": 480}
    with Publisher(bus, "vision.segmentation", seg):
        page.wait_for_function("window.LabkitOverlay.lastDrawn.segmentation > 0", timeout=10000)
        assert painted(page, 0.0, 0.0, 0.2, 0.2) > 100        # the whole picture is tinted
    # results go stale: the overlay clears itself when the detectors stop publishing
    page.wait_for_function("""() => { const c = document.getElementById('camera-overlay');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) if (d[i]) return false; return true; }""",
                           timeout=5000)
    assert page.watch.external == []
    assert page.watch.console_errors == [] and page.watch.page_errors == []


def test_draw_handles_every_kind_with_chinese_labels(panels_server: Any, page: Any) -> None:
    """LabkitOverlay.draw on each kind's payload shape (as labkit.vision publishes it)."""
    page.goto(panels_server.url + "/test/panels")
    page.wait_for_function("window.LabkitOverlay && window.Labkit")
    quad = [[100, 100], [300, 100], [300, 140], [100, 140]]
    payloads = {
        "faces": face_payload(),
        "hands": hand_payload(),
        "pose": {"poses": [{"landmarks": [[200 + 3 * i, 60 + 12 * i, 0.0, 0.9] for i in range(33)],
                            "score": 0.9, "box": {"x": 180, "y": 50, "w": 120, "h": 400},
                            "angles": {"left_knee": 92.4, "right_elbow": None},
                            "roi": [0, 0, 1, 1, 0]}],
                 "width": 640, "height": 480, "reps": {"exercise": "squat", "count": 3}},
        "segmentation": {"grid": ["0011", "0111", "0110"], "coverage": 0.5,
                         "width": 640, "height": 480},
        "text": {"lines": [{"text": "你好世界", "score": 0.9,
                            "box": {"x": 100, "y": 100, "w": 200, "h": 40}, "quad": quad}],
                 "width": 640, "height": 480},
        "colour": {"colour": "red", "blobs": [{"area": 900, "cx": 320, "cy": 380,
                                               "box": {"x": 290, "y": 350, "w": 60, "h": 60}}],
                   "width": 640, "height": 480},
        "shapes": {"shapes": [{"label": "square", "corners": 4, "colour": "blue", "area": 3600,
                               "cx": 330, "cy": 60, "box": {"x": 300, "y": 30, "w": 60, "h": 60},
                               "outline": [[300, 30], [360, 30], [360, 90], [300, 90]]}],
                   "width": 640, "height": 480},
        "emotion": {"faces": [{"box": {"x": 200, "y": 100, "w": 150, "h": 150},
                               "face_score": 0.9, "emotion": "happy", "score": 0.6,
                               "scores": {"happy": 0.6, "neutral": 0.3, "sad": 0.1}}],
                    "width": 640, "height": 480},
        "people": {"people": [{"centre": [330, 300], "score": 0.9,
                               "box": {"x": 270, "y": 180, "w": 120, "h": 240}}],
                   "width": 640, "height": 480,
                   "door": {"line": 0.5, "direction": "right", "margin": 0.05, "entered": 2,
                            "left": 1, "inside": 1, "limit": 2,
                            "tracks": [{"id": 3, "centre": [0.5156, 0.625], "side": 1}]}},
    }
    result = page.evaluate("""(payloads) => {
        const out = {};
        for (const [kind, p] of Object.entries(payloads)) {
            const c = document.createElement('canvas'); c.width = 320; c.height = 240;
            const ctx = c.getContext('2d');
            const n = LabkitOverlay.draw(ctx, kind, p, {width: 320, height: 240});
            const d = ctx.getImageData(0, 0, 320, 240).data;
            let px = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) px++;
            out[kind] = [n, px];
        }
        out.unknown = LabkitOverlay.draw(document.createElement('canvas').getContext('2d'),
                                          'nonsense', {}, {width: 1, height: 1});
        out.ocr = LabkitOverlay.kindOf('ocr');
        return out; }""", payloads)
    for kind in payloads:
        count, pixels = result[kind]
        assert count == 1, kind
        assert pixels > 50, kind
    assert result["unknown"] == 0 and result["ocr"] == "text"
    # labels come translated from the page (the overlay strings _camera.html renders)
    labels = page.evaluate("JSON.parse(document.getElementById('overlay-strings').textContent)")
    assert labels["gestures"]["fist"] == "握拳" and labels["colours"]["red"] == "红色"
    assert labels["door"] == "进 {entered} · 出 {left} · 屋里 {inside}"
    assert page.watch.page_errors == []


def test_bench_partial_shows_only_the_listed_devices_with_icons(panels_server: Any,
                                                                page: Any) -> None:
    sign_in_student(page, panels_server)
    page.goto(panels_server.url + "/test/panels?devices=button,led&mic_start=0")
    page.wait_for_selector("#device-led")
    page.wait_for_selector("#device-distance", state="attached")
    visible = page.locator(".device:not([hidden])").evaluate_all(
        "els => els.map(e => [e.dataset.device, getComputedStyle(e).order])")
    assert [d for d, _ in sorted(visible, key=lambda v: int(v[1]))] == ["button", "led"]
    assert page.locator("#device-distance").is_hidden()
    assert "还有" in page.locator("#bench-hidden-count").inner_text()
    href = page.locator("#device-led .device-icon use").get_attribute("href")
    assert href.endswith("kit.svg#led")
    assert page.locator("#device-rgb .device-icon use").get_attribute("href").endswith("#rgb")
    assert page.evaluate("(u) => fetch(u).then((r) => r.status)", href.split("#")[0]) == 200
    # the listed devices still work: hold the button, the LED lights (idle demo)
    page.locator("#bench-button-press").dispatch_event("pointerdown")
    page.wait_for_function("document.getElementById('device-button').classList.contains('is-on')",
                           timeout=5000)
    page.locator("#bench-button-press").dispatch_event("pointerup")
    # "show all devices" brings the rest back, after the listed ones
    page.check("#bench-show-all")
    assert page.locator("#device-distance").is_visible()
    assert page.locator(".device:not([hidden])").count() >= 9
    page.uncheck("#bench-show-all")
    assert page.locator("#device-distance").is_hidden()
    # controls are big enough to hit with a child's finger
    box = page.locator("#bench-button-press").bounding_box()
    assert box["height"] >= 44
    assert page.watch.console_errors == [] and page.watch.page_errors == []


def test_bench_partial_without_a_list_shows_every_device(panels_server: Any, page: Any) -> None:
    page.goto(panels_server.url + "/test/panels?devices=")
    page.wait_for_selector("#device-led")
    assert page.locator("#bench-show-all").count() == 0
    assert page.locator(".device:not([hidden])").count() >= 9


def test_microphone_partial_shows_the_live_level_big(panels_server: Any, page: Any) -> None:
    runtime = panels_server.runtime
    page.goto(panels_server.url + "/test/panels")
    page.wait_for_function("document.getElementById('mic-db').textContent !== '--'",
                           timeout=20000)
    quiet = float(page.locator("#mic-panel").get_attribute("data-level"))
    assert page.locator("#mic-word").get_attribute("data-state") == "quiet"
    # a loud tone into the simulated microphone
    t = np.arange(int(16000 * 2.5)) / 16000
    runtime.microphone.inject((np.sin(2 * np.pi * 440 * t) * 20000).astype(np.int16))
    page.wait_for_function(
        "['loud', 'clipping'].includes(document.getElementById('mic-word').dataset.state)",
        timeout=10000)
    loud = float(page.locator("#mic-panel").get_attribute("data-level"))
    assert loud > quiet + 20
    assert page.locator("#mic-word").inner_text() in ("很响！", "太响了！")
    assert float(page.locator("#mic-meter").get_attribute("aria-valuenow")) > 50
    size = page.locator("#mic-word").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 32
    assert page.watch.console_errors == [] and page.watch.page_errors == []


def test_microphone_partial_reads_level_events_from_elsewhere(panels_server: Any,
                                                              page: Any) -> None:
    """With mic_start=false the panel starts nothing and shows `audio.level` readings (what a
    lab's own sound detector publishes)."""
    runtime = panels_server.runtime
    page.goto(panels_server.url + "/test/panels?mic_start=0")
    page.wait_for_selector("#mic-panel[data-start='false']")
    reading = {"db": 88.4, "dbfs": -11.6, "peak_dbfs": -3.0, "value": 0.83, "loud": True,
               "clipping": False, "threshold_db": 70.0}
    with Publisher(runtime.bus, "audio.level", reading):
        page.wait_for_function("document.getElementById('mic-db').textContent === '88'",
                               timeout=10000)
    assert page.locator("#mic-word").get_attribute("data-state") == "loud"
    assert page.locator("#mic-meter").get_attribute("aria-valuenow") == "83"
    assert "audio" not in runtime.services          # the sound page's monitor never started


def test_read_aloud_buttons_ask_the_kit_to_speak(panels_server: Any, page: Any) -> None:
    speaker = panels_server.runtime.speaker
    sign_in_student(page, panels_server)
    page.goto(panels_server.url + "/test/panels")
    # data-speak got a button; the macro rendered one
    page.wait_for_selector("#say-me .speak-btn")
    assert page.locator("#say-me .speak-btn").get_attribute("aria-label") == "读给我听"
    page.click("#speak-two")
    page.wait_for_function("document.getElementById('speak-two').dataset.spoken === '1'",
                           timeout=20000)
    assert speaker.played[-1]["text"] == "第二步：挥挥手"
    assert speaker.played[-1]["seconds"] > 0.3                 # espeak-ng really said it
    page.click("#say-me .speak-btn")
    page.wait_for_function(
        "document.querySelector('#say-me .speak-btn').dataset.spoken === '1'", timeout=20000)
    assert speaker.played[-1]["text"] == "你好，小朋友"
    # a result a script writes later: its button shows once there is text, and reads it
    live = page.locator("#live-result + .speak-btn")
    assert live.is_hidden()
    page.evaluate("document.getElementById('live-result').textContent = '三次都做对了！'")
    live.wait_for(state="visible", timeout=5000)
    live.click()
    page.wait_for_function(
        "document.querySelector('#live-result + .speak-btn').dataset.spoken === '1'",
        timeout=20000)
    assert speaker.played[-1]["text"] == "三次都做对了！"
    assert page.locator("#page-error").is_hidden()
    # in English the page asks for the English voice
    said = page.evaluate("LabkitSpeak.say('hello', 'en')")
    assert said["said"] == "hello" and said["lang"] == "en", said
    assert page.watch.console_errors == [] and page.watch.page_errors == []


def test_read_aloud_failure_is_shown_on_the_page(panels_server: Any, page: Any) -> None:
    sign_in_student(page, panels_server)
    page.goto(panels_server.url + "/test/panels")
    page.wait_for_selector("#say-me .speak-btn")
    page.evaluate("document.querySelector('#speak-two').dataset.speak = 'x'.repeat(600)")
    page.click("#speak-two")
    page.wait_for_selector("#page-error:not([hidden])", timeout=10000)
    assert "AI 小盒子没能读出来" in page.locator("#page-error").inner_text()
    assert "500" in page.locator("#page-error").inner_text()       # espeak's limit, said plainly


def test_partials_work_without_unsafe_inline_scripts(strict_csp_server: Any, browser: Any) -> None:
    """Nothing here needs 'unsafe-inline': the page runs, draws and speaks under a strict
    script-src, with no policy violation reported."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    messages: list[str] = []
    errors: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        sign_in_student(page, strict_csp_server)
        page.goto(strict_csp_server.url + "/test/panels")

        def until(expr: str, timeout: float = 10.0) -> None:
            deadline = time.monotonic() + timeout   # page.evaluate runs even under the CSP
            while not page.evaluate(expr):
                assert time.monotonic() < deadline, expr
                time.sleep(0.1)

        until("!!document.getElementById('device-led')")
        with Publisher(strict_csp_server.runtime.bus, "vision.hands", hand_payload()):
            until("(window.LabkitOverlay.lastDrawn.hands || 0) > 0")
        page.click("#speak-two")
        until("document.getElementById('speak-two').dataset.spoken === '1'", timeout=20.0)
        assert strict_csp_server.runtime.speaker.played[-1]["text"] == "第二步：挥挥手"
        assert page.evaluate("document.getElementById('mic-db').textContent") != ""
        violations = [m for m in messages if "Content Security Policy" in m]
        assert violations == [] and errors == []
    finally:
        context.close()
