"""Shared by the web security tests: clients with a CSRF token, people on the roster."""

from __future__ import annotations

import re
from typing import Any

from labkit.store import Store

LAPTOP = {"REMOTE_ADDR": "192.0.2.10"}   # documentation addresses: no traffic is sent
PIN = "24681357"


def csrf_token(client: Any, path: str = "/", **kw: Any) -> str:
    html = client.get(path, **kw).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def browser(app: Any, **environ: str) -> Any:
    """A fresh test client (one browser) whose posts carry its CSRF token."""
    client = app.test_client()
    client.environ_base.update(environ)
    client.environ_base["HTTP_X_CSRFTOKEN"] = csrf_token(client)
    return client


def store_of(app: Any) -> Store:
    return Store.for_runtime(app.extensions["labkit"])


def set_pin(app: Any, pin: str = PIN) -> None:
    store_of(app).pin.replace(pin, pin)


def teacher(app: Any, pin: str = PIN, **environ: str) -> Any:
    if not store_of(app).pin.is_set:
        set_pin(app, pin)
    client = browser(app, **environ)
    r = client.post("/teacher/login", data={"pin": pin})
    assert r.status_code == 302, r.get_data(as_text=True)
    return client


def pick(client: Any, student: Any) -> Any:
    return client.post(f"/student/classes/{student.class_id}/students/{student.id}",
                       data={"next": "/"})


def student(app: Any, who: Any) -> Any:
    client = browser(app)
    assert pick(client, who).status_code == 302
    return client


def school(app: Any) -> dict[str, Any]:
    roster = store_of(app).roster
    a = roster.add_class("二年级一班")
    wang, li = roster.add_students(a.id, ["王芳", "李雷"])
    return {"a": a, "wang": wang, "li": li}
