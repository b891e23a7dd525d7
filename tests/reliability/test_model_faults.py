"""A corrupted or swapped model file is refused at load; the lab names it and how to restore."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.figures import record

FACE = "face_detection_short_range"


@pytest.fixture
def data_dir(tmp_path: Path, model_store: Any) -> Path:
    """A data dir with its own copy of the face model (so the test can damage it)."""
    data = tmp_path / "data"
    models = data / "models"
    models.mkdir(parents=True)
    manifest = json.loads((model_store.models_dir / "manifest.json").read_text("utf-8"))
    manifest["models"] = {k: v for k, v in manifest["models"].items() if k == FACE}
    (models / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    shutil.copytree(model_store.models_dir / FACE, models / FACE)
    return data


@pytest.mark.parametrize("fault", ["corrupted", "swapped"])
def test_a_damaged_model_is_refused_and_the_lab_says_how_to_restore_it(
        fault: str, student_client: Any, data_dir: Path, model_store: Any) -> None:
    entry = json.loads((data_dir / "models" / "manifest.json").read_text())["models"][FACE]
    target = data_dir / "models" / FACE / entry["file"]
    if fault == "corrupted":
        blob = bytearray(target.read_bytes())
        blob[len(blob) // 2] ^= 0xFF
        target.write_bytes(bytes(blob))
    else:   # another model's file under this name
        other = next(p for p in model_store.models_dir.rglob("*.tflite")
                     if FACE not in str(p))
        shutil.copy(other, target)

    r = student_client.post("/api/labs/face_led/start", json={},
                            headers={"Accept-Language": "en"})
    assert 400 <= r.status_code < 500, r.get_data(as_text=True)
    error = r.get_json()["error"]
    assert error["code"] == "model_damaged"
    text = error["message"] + " " + error["fix"]
    assert FACE in text and f"labkit models fetch {FACE}" in text, text
    record(f"model_{fault}", {"faults_injected": 1, "refused_at_load": True})
