"""Export a whole project (model, card, samples if chosen, optional passphrase) and import it
back as the same project: classes, samples, takes, model — or a clear error and nothing
written."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labkit.errors import LabkitError
from labkit.learn import exchange
from labkit.learn.dataset import ProjectStore
from labkit.learn.exchange import (ExportedModel, build_export, export_filename,
                                   import_project)
from labkit.learn.features import HogColourExtractor
from labkit.learn.model import Predictor, train_project
from labkit.learn.synthetic import SHAPES, shapes_dataset


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A small image project (2 shapes × 8 pictures, two takes each) trained on HOG."""
    store = ProjectStore(tmp_path_factory.mktemp("kit-a"))
    project = store.create("我的 形状:分类器?", "image", ["圆", "方"], owner=7)
    images, labels = shapes_dataset(8, SHAPES[:2], seed=3)
    ids = dict(zip(SHAPES[:2], [c.id for c in project.classes], strict=True))
    for n, (img, label) in enumerate(zip(images, labels, strict=True)):
        project.add_sample(ids[label], img, take=f"t{label}{n % 2}")
    project.actions[project.classes[0].id] = {"type": "led", "value": "on"}
    project.save()
    train_project(project, HogColourExtractor())
    return project


def _empty(store: ProjectStore) -> bool:
    return not store.root.exists() or not [p for p in store.root.iterdir()
                                           if not p.name.startswith(".")]


def test_file_name_keeps_chinese_and_drops_path_tricks() -> None:
    assert export_filename("我的 形状/分类器") == "我的_形状_分类器.labkit-model.zip"
    assert export_filename("../../etc") == "etc.labkit-model.zip"
    assert export_filename("///") == "model.labkit-model.zip"


def test_export_without_samples_is_the_model_and_a_readme(trained: Any) -> None:
    name, data = build_export(trained)
    assert name == "我的_形状_分类器.labkit-model.zip"  # from "我的 形状:分类器?"
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert sorted(zf.namelist()) == ["README.md", "card.json", "labels.json", "model.onnx",
                                     "project.json"]
    manifest = json.loads(zf.read("project.json"))
    assert manifest["samples_included"] is False
    assert [c["samples"] for c in manifest["classes"]] == [[], []]
    readme = zf.read("README.md").decode()
    assert "from labkit.learn import ExportedModel" in readme and name in readme


def test_export_does_not_recompute_features(trained: Any, monkeypatch: Any) -> None:
    def no(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("export must not compute features")

    monkeypatch.setattr(HogColourExtractor, "extract", no)
    monkeypatch.setattr("labkit.learn.model.make_int8", no)
    build_export(trained, samples=True)


def test_round_trip_restores_the_whole_project(trained: Any, tmp_path: Path) -> None:
    steps: list[str] = []
    _name, data = build_export(trained, samples=True, progress=lambda s, f: steps.append(s))
    assert steps[0] == "model" and steps[-1] == "done"
    other = ProjectStore(tmp_path / "kit-b")
    got = import_project(other, data, owner=42)
    assert got.owner == 42 and got.name == trained.name and got.kind == "image"
    assert [c.name for c in got.classes] == [c.name for c in trained.classes]
    assert [len(c.samples) for c in got.classes] == [8, 8]
    assert ([s.take for c in got.classes for s in c.samples]
            == [s.take for c in trained.classes for s in c.samples])
    assert got.actions == {got.classes[0].id: {"type": "led", "value": "on"}}
    assert got.model["imported"] and not got.model["outdated"]
    again = ProjectStore(tmp_path / "kit-b").get(got.id)                  # on disk too
    assert again.total == 16
    pics = [again.read_sample(c, s) for c, s in list(again.iter_samples())[:4]]
    np.testing.assert_allclose(Predictor(again).predict_proba(pics),
                               Predictor(trained).predict_proba(pics), atol=1e-5)
    # and it can be trained again from the imported samples
    report = train_project(again, HogColourExtractor())
    assert report.card["sample_counts"] == {"圆": 8, "方": 8}


def test_passphrase_protected_export(trained: Any, tmp_path: Path) -> None:
    with pytest.raises(LabkitError) as exc:
        build_export(trained, passphrase="short")
    assert exc.value.code == "bad_passphrase"
    _name, data = build_export(trained, samples=True, passphrase="红色的圆和蓝色的方")
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert sorted(zf.namelist()) == ["README.md", "envelope.json", "export.enc"]
    assert b"JFIF" not in zf.read("export.enc")                  # no picture in the clear
    other = ProjectStore(tmp_path / "kit-b")
    for passphrase, code in ((None, "passphrase_needed"), ("红色的圆和绿色的方", "wrong_passphrase")):
        with pytest.raises(LabkitError) as exc:
            import_project(other, data, passphrase=passphrase)
        assert exc.value.code == code
        assert _empty(other)
    got = import_project(other, data, passphrase="红色的圆和蓝色的方")
    assert got.total == 16
    model = ExportedModel(data, passphrase="红色的圆和蓝色的方")
    pic = trained.read_sample(*next(trained.iter_samples()))
    assert model.predict(pic) == Predictor(trained).predict(pic)


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
    return buf.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    zf = zipfile.ZipFile(io.BytesIO(data))
    return {n: zf.read(n) for n in zf.namelist()}


def test_bad_imports_are_refused_and_nothing_is_written(trained: Any, tmp_path: Path,
                                                        monkeypatch: Any) -> None:
    _name, good = build_export(trained, samples=True)
    members = _members(good)
    manifest = json.loads(members["project.json"])
    first = manifest["classes"][0]["samples"][0]["file"]
    escaping = dict(members)
    escaping["../../evil.jpg"] = members[first]
    broken_sample = dict(members)
    broken_sample[first] = b"\xff\xd8 not really a jpeg"
    unlisted = dict(members)
    unlisted["samples/0/extra.jpg"] = members[first]
    bad_manifest = dict(members)
    bad_manifest["project.json"] = json.dumps({**manifest, "kind": "telepathy"}).encode()
    cases = {
        "corrupt zip": (good[: len(good) // 2], "bad_model"),
        "path escaping the target": (_zip(escaping), "bad_model"),
        "broken sample": (_zip(broken_sample), "bad_model"),
        "unlisted file": (_zip(unlisted), "bad_model"),
        "bad manifest": (_zip(bad_manifest), "bad_model"),
    }
    other = ProjectStore(tmp_path / "kit-b")
    for why, (data, code) in cases.items():
        with pytest.raises(LabkitError) as exc:
            import_project(other, data)
        assert exc.value.code == code, why
        assert _empty(other), why
    monkeypatch.setattr(exchange, "MAX_IMPORT_BYTES", len(good) - 1)
    with pytest.raises(LabkitError) as exc:
        import_project(other, good)
    assert exc.value.code == "too_large" and _empty(other)


def test_a_failed_write_leaves_no_half_project(trained: Any, tmp_path: Path,
                                               monkeypatch: Any) -> None:
    from labkit.learn.dataset import Project

    _name, data = build_export(trained, samples=True)
    real = Project.add_sample
    calls = [0]

    def full_disk(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 5:
            raise OSError(28, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Project, "add_sample", full_disk)
    other = ProjectStore(tmp_path / "kit-b")
    with pytest.raises(OSError):
        import_project(other, data)
    assert _empty(other)


def test_sound_project_keeps_its_background_class(tmp_path: Path) -> None:
    from labkit.learn.background import background_class, generated_clip

    store = ProjectStore(tmp_path / "kit-a")
    p = store.create("口令", "sound", ["开灯"])
    t = np.arange(8000) / 16000
    p.add_sample(p.classes[0].id, (6000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16))
    p.add_sample(background_class(p).id, generated_clip(0))
    with pytest.raises(LabkitError) as exc:
        build_export(p)                                   # untrained, no samples: nothing
    assert exc.value.code == "not_trained"
    _name, data = build_export(p, samples=True)
    got = import_project(ProjectStore(tmp_path / "kit-b"), data)
    assert [(c.name, c.role, len(c.samples)) for c in got.classes] == [
        ("开灯", "", 1), ("background", "background", 1)]
    assert got.model is None
