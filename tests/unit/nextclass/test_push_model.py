"""A trained /learn model pushed from the lead kit's room page to a paired kit: two kits in
this process (the member served on 127.0.0.1, the lead through its test client). The member
imports it through the model import's checks as its teacher's project, with no samples; a
push carrying samples, or an unsigned one, changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from labkit.errors import LabkitError
from labkit.fleet import models_out, pairing
from labkit.fleet.state import RoomState
from labkit.learn.dataset import ProjectStore
from labkit.learn.exchange import build_export
from labkit.learn.features import HogColourExtractor
from labkit.learn.model import train_project
from labkit.learn.synthetic import SHAPES, shapes_dataset
from tests.security.web_helpers import LAPTOP, PIN, set_pin


@pytest.fixture(scope="module")
def lead(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A second kit (the lead) in this process: its own data dir, app and runtime, and a
    model trained on it (once for the module: training is the slow part)."""
    from labkit.config import Settings
    from labkit.runtime import KitRuntime
    from labkit.web import create_app

    settings = Settings(data_dir=tmp_path_factory.mktemp("lead"), hardware="sim",
                        camera="synthetic", microphone="simulated", host="127.0.0.1",
                        threads=2)
    runtime = KitRuntime(settings, start_camera=False)
    app = create_app(settings, runtime)
    app.config["WTF_CSRF_ENABLED"] = False
    app.trained = _trained(settings.data_dir, owner=None)
    yield app
    runtime.close()


def _trained(data_dir: Path, owner: int | None) -> Any:
    project = ProjectStore(data_dir).create("形状", "image", ["圆", "方"], owner=owner)
    images, labels = shapes_dataset(6, SHAPES[:2], seed=3)
    ids = dict(zip(SHAPES[:2], [c.id for c in project.classes], strict=True))
    for img, label in zip(images, labels, strict=True):
        project.add_sample(ids[label], img)
    train_project(project, HogColourExtractor())
    return project


def _pair(lead_teacher: Any, member_url: str, member_dir: Path) -> None:
    started = lead_teacher.post("/teacher/room/pair/start", json={"address": member_url})
    assert started.status_code == 200, started.get_data(as_text=True)
    code = pairing.shown_code(RoomState(member_dir))["code"]
    done = lead_teacher.post("/teacher/room/pair/confirm", json={
        "address": member_url, "code": code, "challenge": started.get_json()["challenge"]})
    assert done.status_code == 200, done.get_data(as_text=True)


def test_a_trained_model_reaches_the_paired_kit_without_samples(
        lead: Any, inproc_server: Any, settings: Any) -> None:
    set_pin(lead)
    lead_teacher = lead.test_client()             # CSRF is off on the lead: no form to read
    lead_teacher.environ_base.update(LAPTOP, HTTP_ACCEPT="application/json")
    assert lead_teacher.post("/teacher/login", data={"pin": PIN}).status_code == 302
    _pair(lead_teacher, inproc_server.url, settings.data_dir)
    project = lead.trained
    page = lead_teacher.get("/teacher/room").get_data(as_text=True)
    assert f'value="{project.id}"' in page and 'id="room-push-model"' in page

    r = lead_teacher.post("/teacher/room/push-model", json={"project_id": project.id})

    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert body["ok"] == 1 and body["failed"] == 0, body
    got = ProjectStore(settings.data_dir).list()
    assert len(got) == 1 and got[0]["trained"] and got[0]["owner"] is None
    assert got[0]["name"] == "形状" and got[0]["total"] == 0      # no child's samples
    assert body["results"][0]["detail"]["installed"]["project"] == got[0]["id"]
    # bad input: a clear error, nothing pushed
    r = lead_teacher.post("/teacher/room/push-model", json={"project_id": 3})
    assert r.status_code == 400
    untrained = ProjectStore(lead.config["LABKIT_SETTINGS"].data_dir).create(
        "空", "image", ["a", "b"])
    r = lead_teacher.post("/teacher/room/push-model", json={"project_id": untrained.id})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "not_trained"
    assert len(ProjectStore(settings.data_dir).list()) == 1


def test_a_pushed_model_with_samples_or_no_signature_is_refused(app: Any, client: Any,
                                                                 settings: Any,
                                                                 lead: Any) -> None:
    project = lead.trained
    _name, with_samples = build_export(project, samples=True)
    with app.app_context():
        from labkit.web.learn import service
        with pytest.raises(LabkitError) as refused:
            models_out.receive_model(service(), with_samples)
    assert refused.value.code == "has_samples"
    _name, model_only = build_export(project, samples=False)
    r = client.post("/fleet/v1/models", data=model_only, content_type="application/zip")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    assert ProjectStore(settings.data_dir).list() == []
