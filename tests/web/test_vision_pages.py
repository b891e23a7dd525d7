"""Vision task pages in a real headless Chromium against the real app (waitress in-process,
synthetic camera, real models): overlays drawn from SSE results, translated labels, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

TASKS = ("face", "hands", "pose", "segmentation", "emotion", "ocr", "colour", "shapes")


@pytest.fixture
def data_dir(tmp_path: Path, model_store: Any) -> Path:
    """The kit's data dir with the session's models in it (the runtime builds its own store)."""
    from tests.unit.vision.conftest import with_models

    return with_models(tmp_path / "data", model_store)


@pytest.fixture(autouse=True)
def _a_student(request: Any) -> None:
    """Task settings (colour, exercise) need a student session: pick a name first."""
    if "inproc_server" in request.fixturenames:
        from labkit.store import Store
        from tests.helpers import pick_a_name

        server = request.getfixturevalue("inproc_server")
        pick_a_name(request.getfixturevalue("page"), server.url,
                    store=Store.for_runtime(server.runtime))


def overlay_pixels(page: Any) -> int:
    return page.evaluate("""() => {
        const c = document.getElementById('camera-overlay');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
        return n; }""")


def wait_for_result(page: Any) -> None:
    page.wait_for_function("document.getElementById('camera-overlay').dataset.drawn === '1'",
                           timeout=20000)


def test_face_page_draws_boxes_and_counts_appearances(inproc_server: Any, page: Any) -> None:
    source = inproc_server.runtime.camera.source
    source.set_scene(face_walks=False)
    page.goto(inproc_server.url + "/vision/face")
    assert page.locator("h1").inner_text() == "人脸"
    wait_for_result(page)
    page.wait_for_function("document.getElementById('face-count').textContent === '1'",
                           timeout=10000)
    assert overlay_pixels(page) > 500
    assert page.locator("#face-appeared").inner_text() == "1"
    assert page.locator("#vision-summary").inner_text() == "找到 1 个"
    source.set_scene(face=False)
    page.wait_for_function("document.getElementById('face-count').textContent === '0'",
                           timeout=10000)
    assert page.locator("#vision-summary").inner_text() == "什么也没看到"
    source.set_scene(face=True)
    page.wait_for_function("document.getElementById('face-appeared').textContent === '2'",
                           timeout=10000)
    assert page.watch.external == []
    assert page.watch.console_errors == [] and page.watch.page_errors == []


@pytest.mark.parametrize("task", TASKS)
def test_every_task_page_runs_clean(inproc_server: Any, page: Any, task: str) -> None:
    page.goto(f"{inproc_server.url}/vision/{task}")
    wait_for_result(page)
    page.wait_for_function(
        "!document.getElementById('vision-speed').textContent.includes('undefined')")
    assert "毫秒" in page.locator("#vision-speed").inner_text()
    assert page.locator("#page-error").is_hidden()
    assert page.watch.external == []
    assert page.watch.console_errors == [] and page.watch.page_errors == []


def test_colour_page_follows_the_red_ball_and_switches_colour(inproc_server: Any,
                                                              page: Any) -> None:
    page.goto(inproc_server.url + "/vision/colour")
    wait_for_result(page)
    page.wait_for_function("document.getElementById('colour-y').textContent !== '—'",
                           timeout=10000)
    y = float(page.locator("#colour-y").inner_text())
    assert y == pytest.approx(2 * 384 / 480 - 1, abs=0.05)   # the synthetic ball's height
    page.select_option("#colour-pick", "blue")
    page.wait_for_function(
        "() => { const y = document.getElementById('colour-y').textContent;"
        " return y !== '—' && parseFloat(y) < 0; }", timeout=10000)   # the blue box is up top
    assert inproc_server.runtime.services["vision.live"].get("colour").colour == "blue"


def test_emotion_page_warns_in_both_languages(inproc_server: Any, page: Any) -> None:
    page.goto(inproc_server.url + "/vision/emotion")
    note = page.locator("#emotion-ethics")
    assert "并不可靠" in note.inner_text() and "绝不能" in note.inner_text()
    page.click("#lang-en")
    page.wait_for_selector("text=Careful: emotion guessing is unreliable")
    assert "never use it to judge" in page.locator("#emotion-ethics").inner_text()
    assert page.watch.external == []


def test_shapes_page_shows_the_pipeline(inproc_server: Any, page: Any) -> None:
    page.goto(inproc_server.url + "/vision/shapes")
    for stage in ("gray", "blur", "edges", "contours"):
        page.wait_for_function(
            f"document.querySelector('img[data-stage={stage}]').naturalWidth > 0", timeout=15000)
    wait_for_result(page)
    page.wait_for_function("document.querySelectorAll('#shape-list li').length > 0",
                           timeout=10000)
    assert "正方形" in page.locator("#shape-list").inner_text()   # the synthetic blue square
    assert page.watch.console_errors == []


def test_home_links_to_the_vision_tasks(inproc_server: Any, page: Any) -> None:
    page.goto(inproc_server.url + "/")
    page.click("#home-vision-link")
    page.wait_for_selector("#task-face")
    assert page.locator(".vision-task").count() == len(TASKS)
    page.click("#task-hands")
    page.wait_for_selector("#hand-gesture")
    assert page.watch.external == []
