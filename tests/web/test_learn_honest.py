"""/learn says when a model is guessing or mixes two classes up, shows per-class accuracy on
held-out examples, and calibrates its live bars (no 100% bars on a guessing model)."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import numpy as np

from tests.web.test_learn_page import create, wait_trained


def _window(rng: np.random.Generator, distance: float, light: float) -> bytes:
    values = np.stack([distance + rng.normal(0, 0.15, 10), light + rng.normal(0, 0.15, 10)], 1)
    return json.dumps({"channels": ["distance", "light"], "values": values.tolist(),
                       "rate": 10}).encode()


def _upload(client: Any, pid: str, cid: str, windows: list[bytes]) -> None:
    r = client.post(f"/api/learn/projects/{pid}/classes/{cid}/upload", data={
        "files": [(io.BytesIO(w), f"w{i}.json") for i, w in enumerate(windows)]},
        content_type="multipart/form-data")
    assert r.status_code == 200 and not r.get_json()["errors"], r.get_json()


def test_guessing_model_is_named_and_its_bars_stay_low(student_client: Any) -> None:
    rng = np.random.default_rng(0)
    p = create(student_client, "sensor", ["开", "关"]).get_json()
    pid = p["id"]
    readings = [_window(rng, 0.5, 0.5) for _ in range(16)]
    for c in p["classes"]:                       # both classes: the very same sensor readings
        _upload(student_client, pid, c["id"], readings)
    assert student_client.post(f"/api/learn/projects/{pid}/train",
                            json={"classifier": "knn"}).status_code == 202
    card = wait_trained(student_client, pid)["model"]["report"]["card"]
    assert "guessing" in [w["code"] for w in card["warnings"]], card["warnings"]
    assert set(card["per_class"]) == {"开", "关"}
    assert all(c["n_test"] > 0 for c in card["per_class"].values())
    page = student_client.get(f"/learn/{pid}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "这个模型并不比瞎猜好" in html and "留出例子上的正确率" in html
    # live readings from the bench: the bars never claim what the model never showed
    time.sleep(1.1)                                           # a full sensor window
    tops = []
    for _ in range(10):
        r = student_client.get(f"/api/learn/projects/{pid}/predict")
        if r.status_code == 200 and r.get_json().get("label"):
            tops.append(max(r.get_json()["probabilities"].values()))
    skill = card["calibration"]["skill"]
    assert tops and max(tops) <= 0.5 + 0.5 * skill + 1e-6


def test_look_alike_classes_are_named(student_client: Any) -> None:
    rng = np.random.default_rng(1)
    p = create(student_client, "sensor", ["开心", "开始", "结束"]).get_json()
    pid, (a, b, c) = p["id"], p["classes"]
    # 开心 and 开始 get literally the same readings: no classifier can tell them apart
    same = [_window(rng, 0.3, 0.3) for _ in range(16)]
    _upload(student_client, pid, a["id"], same)
    _upload(student_client, pid, b["id"], same)
    _upload(student_client, pid, c["id"], [_window(rng, 0.9, 0.9) for _ in range(16)])
    assert student_client.post(f"/api/learn/projects/{pid}/train", json={}).status_code == 202
    card = wait_trained(student_client, pid)["model"]["report"]["card"]
    alike = [w for w in card["warnings"] if w["code"] == "look_alike"]
    assert [sorted(w["classes"]) for w in alike] == [sorted(["开心", "开始"])], card["warnings"]
    assert card["per_class"]["结束"]["accuracy"] == 1.0
    assert card["accuracy"] is not None and card["n_test"] >= 9
