"""/learn samples, manifests, cached features, trained models and showcase cards are sealed at
rest with the kit's one data key (labkit.atrest) and read back transparently; files an older
kit wrote in clear are sealed on start, atomically."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labkit import atrest
from labkit.atrest import SEALED, Sealer, sealer_for
from labkit.learn.dataset import ProjectStore, seal_clear_files, sealed_files
from labkit.learn.featurecache import FeatureCache
from labkit.learn.features import extractor_for
from labkit.learn.model import Predictor, read_graph, train_project

CLEAR_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"RIFF", b"\x93NUMPY", b"PK\x03\x04")


def _window(rng: np.random.Generator, level: float) -> dict[str, Any]:
    values = np.column_stack([level + rng.normal(0, 0.02, 20), rng.uniform(0.1, 0.9, 20)])
    return {"channels": ["distance", "light"], "values": values.tolist(), "rate": 10.0}


def _sensor_project(data_dir: Path) -> Any:
    rng = np.random.default_rng(7)
    project = ProjectStore(data_dir).create("距离", "sensor", ["近", "远"])
    for info, level in zip(project.classes, (0.2, 0.8), strict=True):
        for _ in range(8):
            project.add_sample(info.id, _window(rng, level))
    return project


def _assert_sealed(path: Path) -> None:
    head = path.read_bytes()
    assert head.startswith(SEALED), path
    assert not any(m in head for m in CLEAR_MAGIC), path


def test_samples_features_and_models_are_sealed_and_read_back(data_dir: Path) -> None:
    rng = np.random.default_rng(1)
    projects = ProjectStore(data_dir)
    image = projects.create("水果", "image", ["苹果", "香蕉"])
    picture = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
    shot = image.add_sample(image.classes[0].id, picture)
    sound = projects.create("口令", "sound", ["开", "关"])
    tone = (np.sin(np.arange(8000) / 5) * 8000).astype(np.int16)
    said = sound.add_sample(sound.classes[0].id, tone)
    for project, sample_id in ((image, shot.id), (sound, said.id)):
        _assert_sealed(project.sample_path(sample_id))

    back = ProjectStore(data_dir).get(image.id)          # another process, same key
    info, sample = back.find_sample(shot.id)
    assert back.read_sample(info, sample).shape == (240, 320, 3)
    info, sample = sound.find_sample(said.id)
    assert np.array_equal(sound.read_sample(info, sample), tone)

    # features (a hand's landmarks are cached the same way) and a trained model
    cache = FeatureCache(image.root, "hand_landmarks", image.sealer)
    row = np.arange(63, dtype=np.float32)
    cache.put("k1", row)
    _assert_sealed(cache.folder / "k1.npy")
    assert np.array_equal(FeatureCache(image.root, "hand_landmarks").get("k1", 63), row)

    project = _sensor_project(data_dir)
    report = train_project(project, extractor_for("sensor"))
    assert report.card["classes"] == ["近", "远"]
    _assert_sealed(project.root / "model" / "model.onnx")
    assert read_graph(project)[:2] != SEALED[:2]
    predictor = Predictor(ProjectStore(data_dir).get(project.id))
    info = project.classes[1]
    assert predictor.predict(project.read_sample(info, info.samples[0]))["label"] == "远"

    key = data_dir / atrest.KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(list(data_dir.glob("*.key"))) == 1        # one data key for the whole kit


def test_a_file_sealed_with_another_key_is_reported_damaged(data_dir: Path,
                                                            tmp_path: Path) -> None:
    from labkit.errors import LabkitError

    project = _sensor_project(data_dir)
    info = project.classes[0]
    path = project.class_dir(info.id) / info.samples[0].file
    stranger = Sealer(tmp_path / "other.key")
    path.write_bytes(stranger.seal(b"{}"))
    with pytest.raises(LabkitError) as caught:
        project.read_sample(info, info.samples[0])
    assert caught.value.code == "bad_sample"


def _write_clear(project: Any) -> list[Path]:
    """Turn a project's sealed files back into what an older kit wrote: clear files."""
    files = list(sealed_files(project.root))
    for path in files:
        path.write_bytes(project.sealer.read(path))
    return files


def test_clear_files_of_an_older_kit_are_sealed_on_start(settings: Any) -> None:
    from labkit.runtime import KitRuntime

    project = _sensor_project(settings.data_dir)
    train_project(project, extractor_for("sensor"))
    clear = _write_clear(project)
    # 16 samples, the graph, project.json, 2 class.json, card.json, labels.json
    assert len(clear) == 22 and not any(p.read_bytes().startswith(SEALED) for p in clear)
    info = project.classes[0]
    assert project.read_sample(info, info.samples[0])["channels"]   # clear is read as is

    runtime = KitRuntime(settings, start_camera=False)
    try:
        assert runtime.sealed_on_start == 22
    finally:
        runtime.close()
    for path in clear:
        _assert_sealed(path)
    again = ProjectStore(settings.data_dir).get(project.id)
    assert again.read_sample(info, info.samples[0])["channels"] == ["distance", "light"]
    assert seal_clear_files(ProjectStore(settings.data_dir)) == 0     # nothing left to do


def test_a_power_cut_during_the_migration_leaves_every_file_readable(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _sensor_project(data_dir)
    clear = _write_clear(project)
    before = {p: p.read_bytes() for p in clear}
    real_replace = os.replace
    calls = {"n": 0}

    def cut_on_the_fifth(src: Any, dst: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError(5, "power cut")      # the rename never happened
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", cut_on_the_fifth)
    with pytest.raises(OSError):
        seal_clear_files(ProjectStore(data_dir))
    monkeypatch.setattr(os, "replace", real_replace)
    sealer = sealer_for(data_dir)
    states = [p.read_bytes().startswith(SEALED) for p in clear]
    assert states.count(True) == 4 and states.count(False) == len(clear) - 4
    assert {p: sealer.read(p) for p in clear} == before        # old or new, never half
    assert not [p for p in project.root.rglob("*.tmp")]
    assert seal_clear_files(ProjectStore(data_dir)) == len(clear) - 4
    assert {p: sealer.read(p) for p in clear} == before


def test_the_training_child_gets_the_key_path_not_the_key(data_dir: Path) -> None:
    from labkit.learn.worker import _train_job

    project = _sensor_project(data_dir)
    key_file = data_dir / atrest.KEY_FILE
    job = {"project": project.id, "classifier": "logistic", "data_dir": str(data_dir),
           "key_path": str(key_file)}
    assert key_file.read_text().strip() not in json.dumps(job)
    result = _train_job(job, None, None, 1, lambda *a: None)
    assert result["model"]["classes"] == ["近", "远"]
    _assert_sealed(project.root / "model" / "model.onnx")


def test_the_service_sends_the_key_path_to_the_child(runtime: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from labkit.learn.service import LearnService

    service = LearnService(runtime)
    project = _sensor_project(runtime.settings.data_dir)
    service._train_lock.acquire()      # what start_training holds while the thread runs
    sent: list[dict[str, Any]] = []

    def run(job: dict[str, Any], progress: Any = None, timeout: float = 600.0) -> Any:
        sent.append(job)
        from labkit.learn.worker import _train_job
        return _train_job(job, None, None, 1, progress or (lambda *a: None))

    monkeypatch.setattr(service._worker, "run", run)
    job: dict[str, Any] = {"project": project.id}
    service._train(service.projects.get(project.id), "logistic", job)
    assert len(sent) == 1 and job["state"] == "done", job
    key = (runtime.settings.data_dir / atrest.KEY_FILE).read_text().strip()
    assert sent[0]["key_path"] == str(runtime.settings.data_dir / atrest.KEY_FILE)
    assert key not in json.dumps(sent[0])


def test_showcase_pictures_and_cards_are_sealed(data_dir: Path) -> None:
    import io

    from PIL import Image

    from labkit.store.showcase import ShowcaseCards

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 10, 10)).save(buf, "PNG")
    cards = ShowcaseCards(data_dir / "showcase")
    cards.save(1, 2, title="王芳的垃圾分类器", problem="p", results="r", ethics=["consent"],
               picture=buf.getvalue())
    for path in (data_dir / "showcase").rglob("*"):
        if path.is_file():
            _assert_sealed(path)
            assert "王芳".encode() not in path.read_bytes()
    assert cards.get(1, 2).title == "王芳的垃圾分类器"
    assert cards.picture(1, 2).startswith(b"\xff\xd8\xff")


def test_a_dead_int8_jobs_clear_scratch_copy_is_removed_on_start(data_dir: Path) -> None:
    from labkit.datadir import tidy_data_dir

    model = data_dir / "learn" / "p1" / "model"
    old, fresh = model / ".int8-dead", model / ".int8-live"
    for folder in (old, fresh):
        folder.mkdir(parents=True)
        (folder / "model.onnx").write_bytes(b"\x08\x07clear graph")
    os.utime(old, (1_000_000, 1_000_000))
    tidy_data_dir(data_dir, now=1_000_000 + 3600)
    assert not old.exists() and fresh.exists()      # a running job's folder is left alone
