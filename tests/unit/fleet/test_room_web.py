"""The room routes through the real app (in process): who may call what, clear JSON errors,
the pairing code shown on the kit itself, and the teacher's room page."""

from __future__ import annotations

from typing import Any

from labkit.fleet.state import RoomState


def test_the_room_page_is_for_the_teacher(client: Any, teacher_client: Any) -> None:
    assert client.get("/teacher/room").status_code == 302
    page = teacher_client.get("/teacher/room")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "教室里的 AI 小盒子" in html and "js/fleet_room.js" in html
    state = teacher_client.get("/teacher/room/state").get_json()
    assert state["members"] == [] and state["discovery"] is False


def test_fleet_calls_without_a_signature_are_refused_as_json(client: Any) -> None:
    for method, path in (("GET", "/fleet/v1/status"), ("GET", "/fleet/v1/portfolio"),
                         ("POST", "/fleet/v1/roster"), ("POST", "/fleet/v1/packs"),
                         ("POST", "/fleet/v1/lab"), ("POST", "/fleet/v1/unpair")):
        r = client.open(path, method=method, data=b"{}", content_type="application/json")
        assert r.status_code == 403, (path, r.status_code)
        assert r.get_json()["error"]["code"] == "forbidden"


def test_hello_is_open_and_says_who_the_kit_is(client: Any, app: Any) -> None:
    data = client.get("/fleet/v1/hello").get_json()
    assert data["kit_id"] and data["version"] and isinstance(data["time"], float)


def test_the_pairing_code_is_shown_on_the_kit_only(client: Any, settings: Any) -> None:
    lead = RoomState(settings.data_dir.parent / "lead")
    assert client.get("/room/pairing?format=json").get_json()["pairing"] is None
    r = client.post("/fleet/v1/pair/start", json={"lead_key": lead.public_text(),
                                                  "lead_name": "讲台"})
    assert r.status_code == 200 and r.get_json()["challenge"]
    shown = client.get("/room/pairing?format=json").get_json()["pairing"]
    assert len(shown["code"]) == 6
    html = client.get("/room/pairing").get_data(as_text=True)
    assert shown["code"] in html and "讲台" in html
    # from another machine of the classroom: sent to the teacher's sign-in, no code
    far = client.get("/room/pairing?format=json", environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert far.status_code == 302 and shown["code"] not in far.get_data(as_text=True)


def test_bad_pairing_requests_get_clear_errors(client: Any) -> None:
    r = client.post("/fleet/v1/pair/start", json={"lead_key": "nonsense"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_request"
    r = client.post("/fleet/v1/pair/confirm", json={"lead_key": "x", "proof": "y"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "no_pairing"


def test_teacher_room_actions_check_their_input(teacher_client: Any) -> None:
    teacher_client.environ_base["HTTP_ACCEPT"] = "application/json"    # as the page's Labkit.post
    r = teacher_client.post("/teacher/room/pair/start", json={"address": "http://x/evil?y"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_address"
    r = teacher_client.post("/teacher/room/roster", json={"class_id": "1"})
    assert r.status_code == 400
    r = teacher_client.post("/teacher/room/push", json={"index": 5})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "unknown_pack"
    r = teacher_client.post("/teacher/room/push", json={"pack_id": "not-installed"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "unknown_pack"
    r = teacher_client.post("/teacher/room/status", json={"kits": "all"})
    assert r.status_code == 400
    # no member kit: an empty result, not an error
    r = teacher_client.post("/teacher/room/collect", json={})
    assert r.status_code == 200 and r.get_json() == {"results": [], "ok": 0, "failed": 0}
    export = teacher_client.get("/teacher/room/export.csv?plain=understood")
    assert export.status_code == 200 and export.data.startswith("\ufeff".encode())


def test_teacher_room_posts_need_the_csrf_token(app: Any, teacher_client: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    token = teacher_client.environ_base.pop("HTTP_X_CSRFTOKEN")
    try:
        r = teacher_client.post("/teacher/room/collect", json={})
        assert r.status_code == 400
    finally:
        teacher_client.environ_base["HTTP_X_CSRFTOKEN"] = token


def test_stopping_the_rooms_lab_stops_the_run_on_the_kit(client: Any, student_client: Any,
                                                          settings: Any, runtime: Any,
                                                          model_store: Any) -> None:
    """The lead's *Stop the room's lab* reaches a kit as a signed `lab_id: null`: the lab
    running there stops (its run ends `stopped`); another caller's request stops nothing."""
    import json
    import time

    from labkit.fleet import signed
    from labkit.projects.runner import LabRunner
    from labkit.store import Store

    (settings.data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    lead = RoomState(settings.data_dir.parent / "lead")
    RoomState(settings.data_dir).add_lead(lead.public_text(), name="讲台")
    kit_id = client.get("/fleet/v1/hello").get_json()["kit_id"]
    r = student_client.post("/api/labs/face_led/start", json={})
    assert r.status_code == 200, r.get_data(as_text=True)
    run_id = r.get_json()["run_id"]

    def post(key: Any, lab_id: str | None) -> Any:
        body = json.dumps({"lab_id": lab_id}).encode()
        headers = signed.sign_headers(key, "POST", "/fleet/v1/lab", kit_id, body,
                                      now=time.time())
        return client.post("/fleet/v1/lab", data=body, headers=headers,
                           content_type="application/json")

    stranger = RoomState(settings.data_dir.parent / "stranger")
    assert post(stranger.private_key(), None).status_code == 403
    assert LabRunner.for_runtime(runtime).active is not None
    same = post(lead.private_key(), "face_led")             # the same lab: keeps running
    assert same.status_code == 200 and same.get_json()["stopped_run"] is None
    stop = post(lead.private_key(), None)
    assert stop.status_code == 200 and stop.get_json() == {"lab_id": None, "stopped_run": run_id}
    assert LabRunner.for_runtime(runtime).active is None
    assert Store.for_runtime(runtime).runs.get(run_id).status == "stopped"
