"""POST /api/learn/projects/<id>/quantlab: the student's own project measured on the kit."""

from __future__ import annotations

from typing import Any

import numpy as np


def test_quantlab_route_measures_the_students_project(app: Any, student_client: Any,
                                                      runtime: Any) -> None:
    from labkit.web.learn import service

    r = student_client.post("/api/learn/projects", json={"name": "远近", "kind": "sensor",
                                                         "classes": ["近", "远"]})
    assert r.status_code in (200, 201), r.get_data(as_text=True)
    project = r.get_json()
    rng = np.random.default_rng(0)
    with app.app_context():
        p = service().projects.get(project["id"])
        for cls, level in zip(project["classes"], (0.15, 0.8), strict=True):
            for _ in range(16):
                rows = [[float(level + rng.normal(0, 0.05)), float(rng.uniform(0, 1))]
                        for _ in range(10)]
                p.add_sample(cls["id"], {"channels": ["distance", "light"], "values": rows})
    sub = runtime.bus.subscribe("learn.quantized")
    r = student_client.post(f"/api/learn/projects/{project['id']}/quantlab", json={})
    assert r.status_code == 200, r.get_data(as_text=True)
    data = r.get_json()
    assert [row["name"] for row in data["rows"]] == ["float32", "int8"]
    assert data["chart_svg"].startswith("<svg") and data["n_test"] >= 8
    assert all(row["latency_ms"] > 0 and row["bytes"] > 0 for row in data["rows"])
    event = sub.get(timeout=2)
    assert event is not None and event.data["int8_bytes"] == data["int8_bytes"]


def test_quantlab_route_refuses_a_project_that_is_not_yours(csrf_client: Any) -> None:
    r = csrf_client.post("/api/learn/projects/nope/quantlab", json={})
    assert r.status_code in (401, 403, 404)


def test_the_teachable_page_offers_the_experiment(student_client: Any) -> None:
    project = student_client.post("/api/learn/projects", json={
        "name": "远近", "kind": "sensor", "classes": ["近", "远"]}).get_json()
    page = student_client.get(f"/learn/{project['id']}").get_data(as_text=True)
    assert 'id="quantlab"' in page and f"/api/learn/projects/{project['id']}/quantlab" in page
    assert "量化实验" in page and "js/quantlab.js" in page
