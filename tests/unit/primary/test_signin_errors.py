"""A wrong picture password or class code is said next to the control, linked to it."""

from __future__ import annotations

import re
from typing import Any

from labkit.store import Store


def _error_after(html: str, control: str) -> None:
    """The error paragraph comes right after `control` closes, and `control` points to it."""
    assert 'id="signin-error"' in html
    opening = re.search(control, html)
    assert opening and 'aria-describedby="signin-error"' in opening.group(0)
    error_at = html.index('id="signin-error"')
    assert opening.start() < error_at < html.index('type="submit" class="btn"', opening.start())
    assert html.count('id="signin-error"') == 1


def test_wrong_class_code_is_shown_by_the_code_box(client: Any, runtime: Any) -> None:
    store = Store.for_runtime(runtime)
    cls = store.roster.add_class("一班")
    kid = store.roster.add_student(cls.id, "王芳")
    store.sign_in.set_mode(cls.id, "code")
    html = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    r = client.post(f"/student/classes/{cls.id}/students/{kid.id}/sign-in",
                    data={"code": "000000" if store.sign_in.code(cls.id) != "000000" else "111111",
                          "csrf_token": token})
    assert r.status_code == 403
    _error_after(r.get_data(as_text=True), r'<input type="text" name="code"[^>]*>')


def test_wrong_pictures_are_shown_by_the_pictures(client: Any, runtime: Any) -> None:
    store = Store.for_runtime(runtime)
    cls = store.roster.add_class("一班")
    kid = store.roster.add_student(cls.id, "王芳")
    store.sign_in.set_mode(cls.id, "pictures")
    store.sign_in.set_pictures(kid.id, ["sun", "fish"])
    html = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    r = client.post(f"/student/classes/{cls.id}/students/{kid.id}/sign-in",
                    data={"picture": ["moon", "star"], "csrf_token": token})
    assert r.status_code == 403
    _error_after(r.get_data(as_text=True), r'<div class="picture-grid"[^>]*>')
