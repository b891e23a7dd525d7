"""The showcase page: a student owns their card, the teacher sees and prints every card."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

from labkit.store import Store


def _png(exif: bool = False) -> bytes:
    img = Image.fromarray(np.full((40, 60, 3), (200, 30, 30), np.uint8))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _save(client: Any, cid: int, sid: int, **extra: Any) -> Any:
    data = {"title": "读书机", "problem": "帮看不见的人读字", "results": "HELLO 读对 9/10",
            "ethics": ["consent", "limits_stated"], **extra}
    return client.post(f"/showcase/classes/{cid}/students/{sid}", data=data,
                       content_type="multipart/form-data")


def test_student_saves_own_card_and_sees_only_it(student_client: Any, runtime: Any) -> None:
    me = student_client.student
    roster = Store.for_runtime(runtime).roster
    sub = runtime.bus.subscribe("showcase.saved")
    other = roster.add_student(me.class_id, "李明")
    r = _save(student_client, me.class_id, me.id, picture=(io.BytesIO(_png()), "me.png"))
    assert r.status_code == 302, r.get_data(as_text=True)
    page = student_client.get(f"/showcase/classes/{me.class_id}").get_data(as_text=True)
    assert "读书机" in page and "HELLO 读对 9/10" in page and "☑" in page and "☐" in page
    event = sub.get(timeout=2)
    assert event.data == {"class_id": me.class_id, "student_id": me.id, "ethics_done": 2,
                          "has_picture": True, "has_results": True}
    pic = student_client.get(f"/showcase/classes/{me.class_id}/students/{me.id}/picture")
    assert pic.status_code == 200 and pic.data[:2] == b"\xff\xd8"        # re-encoded JPEG
    # someone else's card: neither editable nor visible
    assert _save(student_client, me.class_id, other.id).status_code == 403
    assert student_client.get(
        f"/showcase/classes/{me.class_id}/students/{other.id}").status_code == 403


def test_teacher_sees_every_card_printable(student_client: Any, teacher_client: Any) -> None:
    me = student_client.student
    assert _save(student_client, me.class_id, me.id).status_code == 302
    page = teacher_client.get(f"/showcase/classes/{me.class_id}").get_data(as_text=True)
    assert f'id="card-{me.id}"' in page and "测试学生" in page and 'id="print-showcase"' in page
    css = teacher_client.get("/static/css/showcase.css").get_data(as_text=True)
    assert "@media print" in css
    js = teacher_client.get("/static/js/showcase.js").get_data(as_text=True)
    assert "window.print()" in js


def test_bad_input_is_refused_and_changes_nothing(student_client: Any) -> None:
    me = student_client.student
    assert _save(student_client, me.class_id, me.id).status_code == 302
    bad = [{"picture": (io.BytesIO(b"not a picture"), "x.png")},
           {"title": "x" * 61}, {"title": "  "}, {"ethics": ["made_up"]}]
    for extra in bad:
        r = _save(student_client, me.class_id, me.id, **{"title": "改过的", **extra})
        assert r.status_code == 400, (extra, r.status_code)
    page = student_client.get(f"/showcase/classes/{me.class_id}").get_data(as_text=True)
    assert "读书机" in page and "改过的" not in page


def test_anonymous_visitors_are_refused(client: Any, student_client: Any) -> None:
    me = student_client.student
    assert _save(student_client, me.class_id, me.id).status_code == 302
    r = client.get(f"/showcase/classes/{me.class_id}")
    assert r.status_code == 302 and "读书机" not in r.get_data(as_text=True)   # to sign-in
    assert client.get(f"/showcase/classes/{me.class_id}/students/{me.id}/picture"
                      ).status_code in (302, 401, 403)


def test_the_portfolio_links_to_the_card(student_client: Any) -> None:
    me = student_client.student
    page = student_client.get(f"/portfolio/classes/{me.class_id}/students/{me.id}")
    assert page.status_code == 200, page.status_code
    assert f"/showcase/classes/{me.class_id}/students/{me.id}" in page.get_data(as_text=True)
