"""Every route declares who may call it; nobody without a session changes the kit or a
student's work; /learn projects belong to a student (issue 11 § 4)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from labkit.web.access import ROLES, declared_roles
from tests.security.web_helpers import browser, school, store_of, student, teacher


def test_every_route_declares_its_roles(app: Any) -> None:
    undeclared = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        roles = declared_roles(app.view_functions[rule.endpoint])
        if not roles or not roles <= set(ROLES):
            undeclared.append(f"{rule.rule} ({rule.endpoint})")
    assert not undeclared, "routes without @allow(...): " + ", ".join(undeclared)


def test_a_route_without_a_declaration_is_refused(settings: Any, runtime: Any) -> None:
    from labkit.web import create_app

    app = create_app(settings, runtime)
    app.add_url_rule("/undeclared", "undeclared", lambda: "open")
    r = app.test_client().get("/undeclared")
    assert r.status_code == 403 and b"open" not in r.data


ANONYMOUS_WRITES = [
    ("/api/bench/input", {"device": "button", "action": "press"}),
    ("/api/audio/settings", {"level_threshold_db": 90}),
    ("/api/audio/bind", {"trigger": "开灯", "action": "fan_on"}),
    ("/api/audio/say", {"text": "你好"}),
    ("/api/audio/words/delete", {"word": "开灯"}),
    ("/api/vision/colour/settings", {"colour": "blue"}),
    ("/api/learn/projects", {"name": "x", "kind": "image", "classes": ["a", "b"]}),
    ("/api/labs/face_led/start", {}),
]


@pytest.mark.parametrize("url, body", ANONYMOUS_WRITES)
def test_no_session_changes_nothing(app: Any, runtime: Any, url: str, body: Any) -> None:
    before = runtime.bench.state()
    r = browser(app).post(url, json=body)
    assert r.status_code == 401, r.get_json()
    assert r.get_json()["error"]["code"] == "need_student"
    assert runtime.bench.state() == before


def test_roster_writes_need_the_teacher(app: Any) -> None:
    people = school(app)
    kid = student(app, people["wang"])
    for url in ("/teacher/classes", f"/teacher/classes/{people['a'].id}/students",
                f"/teacher/classes/{people['a'].id}/delete"):
        assert kid.post(url, data={"name": "x", "confirm": "二年级一班"}).status_code == 401
    assert [c.name for c in store_of(app).roster.classes()] == ["二年级一班"]


def _project(client: Any) -> dict[str, Any]:
    r = client.post("/api/learn/projects", json={"name": "猫狗", "kind": "image",
                                                 "classes": ["猫", "狗"]})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_a_learn_project_belongs_to_its_student(app: Any) -> None:
    people = school(app)
    wang, li = student(app, people["wang"]), student(app, people["li"])
    project = _project(wang)
    pid, cat = project["id"], project["classes"][0]["id"]
    assert project["owner"] == people["wang"].id
    assert wang.post(f"/api/learn/projects/{pid}/classes/{cat}/capture", json={}).status_code \
        == 200
    sample = wang.get(f"/api/learn/projects/{pid}").get_json()["classes"][0]["samples"][0]
    # another child: can neither see nor change any of it
    attempts = [
        li.get(f"/api/learn/projects/{pid}"), li.get(f"/learn/{pid}"),
        li.post(f"/api/learn/projects/{pid}/classes", json={"name": "鸟"}),
        li.post(f"/api/learn/projects/{pid}/classes/{cat}/rename", json={"name": "虎"}),
        li.delete(f"/api/learn/projects/{pid}/classes/{cat}"),
        li.post(f"/api/learn/projects/{pid}/classes/{cat}/capture", json={}),
        li.post(f"/api/learn/projects/{pid}/classes/{cat}/upload",
                data={"files": (io.BytesIO(b"x"), "a.png")}, content_type="multipart/form-data"),
        li.delete(f"/api/learn/projects/{pid}/samples/{sample}"),
        li.get(f"/api/learn/projects/{pid}/samples/{sample}/thumb"),
        li.post(f"/api/learn/projects/{pid}/train", json={}),
        li.get(f"/api/learn/projects/{pid}/export"),
        li.post(f"/api/learn/projects/{pid}/actions/{cat}", json={"led": "on"}),
        li.delete(f"/api/learn/projects/{pid}"),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert all(r.get_json()["error"]["code"] == "forbidden" for r in attempts if r.is_json)
    assert li.get("/api/learn/projects").get_json()["projects"] == []
    after = wang.get(f"/api/learn/projects/{pid}").get_json()
    assert [c["name"] for c in after["classes"]] == ["猫", "狗"]
    assert after["classes"][0]["samples"] == [sample]
    # the teacher sees every project and may change it; the owner may delete it
    boss = teacher(app)
    assert [p["id"] for p in boss.get("/api/learn/projects").get_json()["projects"]] == [pid]
    assert boss.post(f"/api/learn/projects/{pid}/classes/{cat}/rename",
                     json={"name": "小猫"}).status_code == 200
    assert wang.delete(f"/api/learn/projects/{pid}").status_code == 200
    assert wang.get("/api/learn/projects").get_json()["projects"] == []


def test_a_name_picked_again_elsewhere_does_not_open_that_childs_projects(app: Any) -> None:
    people = school(app)
    first = student(app, people["wang"])
    pid = _project(first)["id"]
    impostor = student(app, people["wang"])     # same name, no proof
    assert impostor.get(f"/api/learn/projects/{pid}").status_code == 403
    assert impostor.get("/api/learn/projects").get_json()["projects"] == []
    assert first.get(f"/api/learn/projects/{pid}").status_code == 200
