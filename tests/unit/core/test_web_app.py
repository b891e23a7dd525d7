"""The Flask app in-process: bench input through the API, errors as JSON."""

import pytest


def test_bench_input_via_api_lights_the_led_through_the_idle_demo(student_client, runtime):
    r = student_client.post("/api/bench/input", json={"device": "button", "action": "press"})
    assert r.status_code == 200 and r.json["state"]["pressed"] is True
    import time
    deadline = time.monotonic() + 10      # gpiozero's source thread copies the button over
    while runtime.bench.state()["led"]["value"] != 1.0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert runtime.bench.state()["led"]["value"] == 1.0
    student_client.post("/api/bench/input", json={"device": "button", "action": "release"})


@pytest.mark.parametrize("body, status, code", [
    ({"device": "laser"}, 404, "unknown_device"),
    ({"device": "distance", "value": -3}, 400, "bad_input"),
    ({"device": "led"}, 400, "not_an_input"),
])
def test_bad_bench_input_is_json_4xx(student_client, body, status, code):
    r = student_client.post("/api/bench/input", json=body)
    assert r.status_code == status
    assert r.json["error"]["code"] == code and r.json["error"]["message"]


def test_non_json_body_is_a_clear_error(student_client):
    r = student_client.post("/api/bench/input", data="press!", content_type="text/plain")
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_input"


def test_oversized_upload_is_413_json(student_client):
    r = student_client.post("/api/bench/input", data=b"x" * (21 * 1024 * 1024),
                         content_type="application/json")
    assert r.status_code == 413 and r.json["error"]["code"] == "too_large"


def test_language_switch_only_redirects_locally(client):
    r = client.get("/lang/en?next=//evil.example/")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    r = client.get("/lang/en?next=/")
    assert "Virtual bench" in client.get("/").get_data(as_text=True)
