"""Signed-in clients for the security tests of the layers below the web (model import,
uploads, speech): the routes need at least a student session, so the tests pick a name the
way a child does — a class and a student on the roster, then the name picked."""

from __future__ import annotations

import re
import urllib.request
from typing import Any

from labkit.store import Store


def student_client(app: Any) -> Any:
    """A test client with a picked name and the page's CSRF token on every POST."""
    roster = Store.for_runtime(app.extensions["labkit"]).roster
    school_class = roster.add_class("安全测试班")
    student = roster.add_student(school_class.id, "小明")
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    client.environ_base["HTTP_X_CSRFTOKEN"] = re.search(
        r'name="csrf-token" content="([^"]+)"', html).group(1)
    r = client.post(f"/student/classes/{school_class.id}/students/{student.id}",
                    data={"next": "/"})
    assert r.status_code == 302, r.get_data(as_text=True)
    client.student = student
    return client


def live_student(server: Any) -> tuple[Any, str]:
    """(an opener with a picked name's cookies, its CSRF token) for a live server."""
    store = Store(server.data_dir)
    try:
        school_class = store.roster.add_class("安全测试班")
        student = store.roster.add_student(school_class.id, "小明")
    finally:
        store.close()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    html = opener.open(server.url + "/", timeout=10).read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    pick = urllib.request.Request(
        f"{server.url}/student/classes/{school_class.id}/students/{student.id}",
        data=b"next=%2F", method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": token})
    opener.open(pick, timeout=10)
    return opener, token
