"""The learn service keeps nothing a model cannot learn from: a hand/pose picture with no
hand/body found (live or uploaded), and — through the dataset — a silent word clip."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from labkit.errors import LabkitError
from labkit.learn.service import LearnService


@pytest.fixture
def service(runtime: Any) -> Any:
    svc = LearnService(runtime, store=None)
    yield svc
    svc.close()


@pytest.mark.parametrize("kind, code", [("hand", "no_hand"), ("pose", "no_body")])
def test_no_landmarks_no_sample(service: Any, kind: str, code: str) -> None:
    import cv2

    project = service.projects.create("手", kind, ["a", "b"])
    cid = project.classes[0].id
    seen: list[tuple[int, ...]] = []

    def nobody(image: np.ndarray) -> None:
        seen.append(image.shape)
        return None

    service._trackers[kind] = nobody
    with pytest.raises(LabkitError) as exc:
        service.capture(project.id, cid)
    assert exc.value.code == code and seen
    picture = cv2.imencode(".png", np.full((60, 80, 3), 128, np.uint8))[1].tobytes()
    with pytest.raises(LabkitError) as exc:
        service.add_upload(project, cid, picture, "x.png")
    assert exc.value.code == code
    assert project.total == 0 and not list(project.class_dir(cid).glob("s*"))
    service._trackers[kind] = lambda image: np.zeros((33, 4))
    assert service.capture(project.id, cid)["found"] is True
    service.add_upload(project, cid, picture, "x.png")
    assert project.total == 2
    # an image project runs no tracker
    other = service.projects.create("图", "image", ["a", "b"])
    service._trackers[kind] = nobody
    n = len(seen)
    assert service.capture(other.id, other.classes[0].id)["found"] is None and len(seen) == n


def test_a_missing_vision_model_is_said_not_saved(service: Any) -> None:
    project = service.projects.create("手", "hand", ["a", "b"])
    service._trackers["hand"] = None
    with pytest.raises(LabkitError) as exc:
        service.capture(project.id, project.classes[0].id)
    assert exc.value.code == "no_model" and project.total == 0
