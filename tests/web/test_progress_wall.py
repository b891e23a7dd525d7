"""The teacher starts a lesson in the browser and watches the progress wall change live (SSE
through the kit's ASGI server) as students' runs advance, get stuck and finish; then grades the
finished run, ends the lesson and finds it counted in the implementation report."""

from __future__ import annotations

from typing import Any

import pytest

from labkit.store import Store
from tests.security.web_helpers import PIN

LAB = "face_led"

pytestmark = [pytest.mark.browser, pytest.mark.slow]   # a real chromium, like tests/web's others


def test_lesson_to_live_progress_wall(inproc_server: Any, page: Any) -> None:
    runtime = inproc_server.runtime
    store = Store.for_runtime(runtime)
    store.pin.replace(PIN, PIN)
    cls = store.roster.add_class("三年级一班")
    store.classroom.set_grade(cls.id, 3)
    kids = store.roster.add_students(cls.id, [f"学生{i:02d}" for i in range(40)],
                                     [str(i + 1) for i in range(40)])
    base = inproc_server.url
    page.goto(base + "/teacher")
    page.fill("input[name=pin]", PIN)
    page.press("input[name=pin]", "Enter")
    page.wait_for_selector("#change-pin")
    page.click(f"#lessons-{cls.id}")
    page.check(f"#start-{LAB}")
    page.click("#start-lesson")
    page.wait_for_url("**/wall")
    assert page.locator(".wall-card").count() == 40
    assert page.locator('[data-count="not_started"]').inner_text() == "40"

    session = store.classroom.running(cls.id)
    assert session is not None and session.lab_ids == (LAB,)
    first = store.runs.start(kids[0].id, lesson_id=LAB, project_id=LAB, steps_total=3)
    store.runs.record_step(first, "look", "face_seen")
    runtime.bus.publish("lab.step", {"run_id": first, "step": "look"})
    card = page.locator(f'.wall-card[data-student="{kids[0].id}"]')
    card.locator("text=1 / 3").wait_for()
    assert card.get_attribute("data-state") == "working"
    assert page.locator('[data-count="working"]').inner_text() == "1"

    runtime.bus.publish("lab.error", {"run_id": first, "message": "boom"})
    page.wait_for_selector(f'.wall-card[data-student="{kids[0].id}"][data-state="stuck"]')
    assert "出错" in card.inner_text()

    second = store.runs.start(kids[1].id, lesson_id=LAB, project_id=LAB, steps_total=3)
    store.runs.finish(second, question="q", answer="a", self_scores={})
    runtime.bus.publish("lab.state", {"run_id": second, "status": "finished"})
    page.wait_for_selector(f'.wall-card[data-student="{kids[1].id}"][data-state="finished"]')
    assert page.locator('[data-count="finished"]').inner_text() == "1"
    assert page.locator('[data-count="not_started"]').inner_text() == "38"

    # grading the finished run, then the lesson ends and the report counts it
    page.goto(f"{base}/teacher/classes/{cls.id}/grading?lab={LAB}")
    page.select_option(f'select[name="level-{kids[1].id}-observe"]', "3")
    page.fill(f'textarea[name="comment-{kids[1].id}"]', "观察得很仔细")
    page.click("#grading-save")
    page.wait_for_selector(".flash-ok")
    run = store.runs.get(second)
    assert run.scores_by("teacher")["observe"].level == 3
    page.goto(f"{base}/teacher/classes/{cls.id}/lesson")
    page.click("#end-lesson")
    page.wait_for_load_state()
    assert store.classroom.running(cls.id) is None
    page.goto(base + "/teacher")
    page.click("#impl-report")
    page.wait_for_selector("#report-summary")
    assert page.locator("#sum-lessons").inner_text() == "1"
    assert page.watch.external == [] and page.watch.page_errors == []
    assert page.watch.console_errors == []


def test_report_page_prints_without_the_kit_chrome(inproc_server: Any, page: Any) -> None:
    store = Store.for_runtime(inproc_server.runtime)
    store.pin.replace(PIN, PIN)
    cls = store.roster.add_class("二年级一班")
    store.classroom.set_grade(cls.id, 2)
    store.classroom.end(store.classroom.start(cls.id, [LAB], class_hours=2.0).id)
    page.goto(inproc_server.url + "/teacher")
    page.fill("input[name=pin]", PIN)
    page.press("input[name=pin]", "Enter")
    page.wait_for_selector("#change-pin")
    page.click("#impl-report")
    page.wait_for_selector("#report-summary")
    assert page.locator("#sum-hours").inner_text() == "2"
    assert page.locator(".report-chart rect.delivered").count() == 1
    assert page.locator(".topbar").is_visible() and page.locator("#report-csv").is_visible()
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible()
    assert not page.locator("#report-csv").is_visible()
    assert page.locator("#report-class-table").is_visible()
    assert page.watch.external == [] and page.watch.page_errors == []
    assert page.watch.console_errors == []          # CSP: no inline style or script refused
