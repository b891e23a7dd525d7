"""The semester plan page: each class's plan for its grade and the term, with the planned
labs its lessons opened (and when) and how many students finished them; teacher only."""

from __future__ import annotations

from typing import Any

import pytest

from labkit import steady
from labkit.curriculum import load
from labkit.curriculum.plan_progress import plan_progress, semesters_for
from labkit.store.classroom import term_of
from tests.security.web_helpers import LAPTOP, store_of, student, teacher


def _term() -> tuple[str, str]:
    term = term_of(steady.now())
    return term, term.split("-")[1]


def test_plan_progress_marks_planned_labs_done() -> None:
    cur = load()
    _term_name, kind = _term()
    (plan, semester), *_ = semesters_for(cur, 3, kind)
    planned = [x["lesson"] for x in semester["lessons"]]
    first = planned[0]
    progress = plan_progress(cur, 3, kind, [(100.0, [first, "extra_lab"]), (200.0, [first])],
                             {first: 7})
    sem = next(p for p in progress if p.semester_id == semester["id"])
    row = next(lab for lab in sem.labs if lab.lab_id == first)
    assert (row.done_at, row.lessons, row.finished) == (100.0, 2, 7)
    assert sem.done == sum(1 for lab in sem.labs if lab.lab_id == first)
    assert sem.unplanned == ["extra_lab"]
    assert all(lab.done_at is None for lab in sem.labs if lab.lab_id != first)
    assert semesters_for(cur, 99, kind) == []


@pytest.fixture
def room(app: Any) -> dict[str, Any]:
    store = store_of(app)
    cls = store.roster.add_class("三年级一班")
    store.classroom.set_grade(cls.id, 3)
    wang, li = store.roster.add_students(cls.id, ["王芳", "李雷"])
    plain = store.roster.add_class("没有年级的班")
    return {"class": cls, "wang": wang, "li": li, "plain": plain}


def test_the_plan_page_shows_what_each_class_did(app: Any, room: dict[str, Any]) -> None:
    term, kind = _term()
    (_plan, semester), *_ = semesters_for(load(), 3, kind)
    lab = semester["lessons"][0]["lesson"]
    store = store_of(app)
    session = store.classroom.start(room["class"].id, [lab])
    run = store.runs.start(room["wang"].id, lesson_id=lab, project_id=lab, steps_total=1)
    store.runs.finish(run, question="q", answer="a", self_scores={})
    store.classroom.end(session.id)
    client = teacher(app, **LAPTOP)
    r = client.get(f"/teacher/plan?term={term}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert f'data-lab="{lab}" data-done="yes"' in html and "1 / 2" in html
    assert 'data-done="no"' in html                     # the rest of the plan: not yet
    assert f'id="plan-class-{room["plain"].id}"' in html and "年级" in html
    assert client.get("/teacher/plan").status_code == 200
    assert client.get("/teacher/plan?term=2026-winter").status_code == 404
    assert client.get("/teacher/plan?term=--1").status_code == 404
    assert student(app, room["wang"]).get("/teacher/plan").status_code == 302
