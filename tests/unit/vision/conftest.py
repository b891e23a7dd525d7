"""Vision test fixtures: detectors built once per session over the shared model store, and
the oracle (mediapipe 0.10.14's outputs, made by tests/fixtures/oracle/make_oracle.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from tests.fixtures.oracle import hands_images
from tests.fixtures.oracle import images as oracle_images

ORACLE = Path(__file__).resolve().parents[2] / "fixtures" / "oracle"


def load_oracle(task: str) -> dict[str, Any]:
    return json.loads((ORACLE / f"{task}.json").read_text())


def oracle_image(key: str, expected_sha: str) -> np.ndarray:
    """The oracle's image as BGR, after checking it is pixel-identical to the oracle's."""
    if key.startswith("render/"):
        rgb = hands_images.all_images()[key]
    else:
        source, variant = key.split("/")
        rgb = oracle_images.image(source, variant)
    assert oracle_images.digest(rgb) == expected_sha, f"{key}: pixels differ from the oracle's"
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


@pytest.fixture(scope="session")
def face_detector(model_store: Any) -> Any:
    from labkit.vision import FaceDetector

    det = FaceDetector(store=model_store)
    yield det
    det.close()


def with_models(data: Path, model_store: Any) -> Path:
    """Make `data` a kit data dir whose models/ is the session's model store."""
    data.mkdir(exist_ok=True)
    if not (data / "models").exists():
        (data / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    return data


@pytest.fixture
def data_dir(tmp_path: Path, model_store: Any) -> Path:
    """The shared `data_dir` fixture, with the models in it (the runtime and the web app
    build their own ModelStore from the settings)."""
    return with_models(tmp_path / "data", model_store)


@pytest.fixture
def models_data_dir(model_store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A LABKIT_DATA whose models/ is the session's model store, so code that builds its own
    `ModelStore()` from the environment (a student program, a lab) finds the models."""
    data = with_models(tmp_path / "kitdata", model_store)
    monkeypatch.setenv("LABKIT_DATA", str(data))
    return data


@pytest.fixture(scope="session")
def hand_tracker(model_store: Any) -> Any:
    """Static-image mode (like the oracle): palms are detected on every frame."""
    from labkit.vision import HandTracker

    det = HandTracker(store=model_store, track=False)
    yield det
    det.close()


@pytest.fixture(scope="session")
def pose_tracker(model_store: Any) -> Any:
    """Static-image mode (like the oracle): the person detector runs on every frame."""
    from labkit.vision import PoseTracker

    det = PoseTracker(store=model_store, track=False)
    yield det
    det.close()
