"""The lab demo API's quick mode ({"fast": true}): played on a simulated clock of its own."""

from __future__ import annotations

import time
from typing import Any


def test_a_quick_demo_finishes_on_its_own_clock(teacher_client: Any, runtime: Any,
                                                model_store: Any, data_dir: Any) -> None:
    from labkit.projects.runner import LabRunner

    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    r = teacher_client.post("/api/labs/clap_lamp/demo", json={"fast": True})
    assert r.status_code == 200, r.get_json()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        lab = LabRunner.for_runtime(runtime).active
        if lab.demo_done:
            break
        time.sleep(0.05)
    snap = lab.snapshot()
    assert lab.fast and not LabRunner.for_runtime(runtime).clock.simulated
    assert snap["demo_done"] and all(s["passed"] for s in snap["steps"]), snap
    assert teacher_client.post("/api/labs/clap_lamp/demo/stop", json={}).get_json() == \
        {"stopped": True}


def test_the_quick_demo_flag_must_be_true_or_false(teacher_client: Any) -> None:
    r = teacher_client.post("/api/labs/clap_lamp/demo", json={"fast": "yes"})
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "bad_request"
    assert teacher_client.get("/api/labs/active").get_json()["active"] is None
