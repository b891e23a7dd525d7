"""Manifest, verify-on-load, lookup errors, LRU: on copies of real models."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labkit.models import ModelEntry, ModelError, ModelStore
from labkit.models import registry, runtime
from tests.unit.models.conftest import tree_hash

STANDARD = ["face_detection_short_range", "face_detection_full_range_sparse",
            "palm_detection_lite", "hand_landmark_lite", "pose_detection", "pose_landmark_full",
            "selfie_segmentation", "face_landmark", "iris_landmark", "emotion_fer", "silero_vad",
            "pocketsphinx_en_us", "ocr_det", "ocr_cls", "ocr_rec",
            "haarcascade_frontalface_default", "haarcascade_eye"]


def test_standard_set_has_provenance(model_store: ModelStore) -> None:
    names = model_store.names()
    assert set(STANDARD) <= set(names)
    for name in STANDARD:
        e = model_store.info(name)
        assert e.source["package"] and e.source["version"] and e.source["archive"]
        assert len(e.sha256) == 64 and e.size > 0 and e.files
        assert len(e.licence) > 20, name          # real text copied from the wheel
        assert e.licence_name
    mp = model_store.info("face_detection_short_range")
    assert mp.source["version"] == "0.10.14"
    assert mp.source["path"] == "mediapipe/modules/face_detection/face_detection_short_range.tflite"
    assert "Apache License" in mp.licence
    assert mp.inputs == [{"name": "input", "shape": [1, 128, 128, 3], "dtype": "float32"}]
    assert mp.normalisation["range"] == [-1.0, 1.0]
    assert model_store.info("emotion_fer").labels == [
        "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert model_store.info("hand_landmark_lite").labels == ["Left", "Right"]
    assert "MIT" in model_store.info("silero_vad").licence
    ps = model_store.info("pocketsphinx_en_us")
    assert ps.kind == "dir" and ps.backend == "files"
    assert {"en-us/en-us/mdef", "en-us/cmudict-en-us.dict"} <= {f.path for f in ps.files}
    assert model_store.path("pocketsphinx_en_us").is_dir()
    keys = model_store.file("ocr_rec", "ppocr_keys.txt").read_text(encoding="utf-8").split("\n")
    assert len([k for k in keys if k]) > 6000 and "中" in keys
    assert model_store.by_task("vad")[0].name == "silero_vad"


def test_store_starts_without_loading(store: ModelStore) -> None:
    assert store.loaded() == []
    model = store.load("face_detection_short_range")
    assert store.load("face_detection_short_range") is model
    assert store.loaded() == ["face_detection_short_range"]


def test_another_thread_count_is_its_own_cached_model(store: ModelStore) -> None:
    default = store.load("face_detection_short_range")
    other = store.threads + 1
    single = store.load("face_detection_short_range", threads=other)
    assert single is not default
    assert store.load("face_detection_short_range", threads=other) is single
    assert store.load("face_detection_short_range", threads=store.threads) is default
    x = np.random.default_rng(0).random((1, 128, 128, 3), dtype=np.float32)
    a, b = default.run(x), single.run(x)
    assert all(np.allclose(a[name], b[name], atol=1e-5) for name in a)
    store.unload("face_detection_short_range")
    assert store.loaded() == []


def test_unknown_model_name(store: ModelStore) -> None:
    with pytest.raises(ModelError) as err:
        store.load("face_detection_long_range")
    assert err.value.code == "unknown_model"
    assert "face_detection_long_range" in err.value.message
    assert "labkit models fetch" in err.value.fix


def test_hash_mismatch_is_refused_and_never_run(store: ModelStore,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = store.models_dir / "face_detection_short_range" / "face_detection_short_range.tflite"
    data = bytearray(path.read_bytes())
    data[5000] ^= 0xFF                                      # same size, one byte changed
    path.write_bytes(bytes(data))
    opened = []
    monkeypatch.setattr(runtime, "open_model", lambda *a, **k: opened.append(a))
    before = tree_hash(store.models_dir)
    with pytest.raises(ModelError) as err:
        store.load("face_detection_short_range")
    assert err.value.code == "model_damaged"
    assert "sha256" in err.value.message and "will not be used" in err.value.message
    assert opened == []
    assert tree_hash(store.models_dir) == before
    assert list(store.verify()) == ["face_detection_short_range"]


def test_truncated_model_file_is_refused(store: ModelStore) -> None:
    path = store.models_dir / "silero_vad" / "silero_vad.onnx"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ModelError) as err:
        store.path("silero_vad")
    assert "1000 bytes" in err.value.message
    assert store.verify() == {"silero_vad": [err.value.message.split(": ", 1)[1]]}


def _rewrite_entry(store: ModelStore, name: str, **changes: Any) -> None:
    entries = registry.read_manifest(store.manifest_path)
    data = entries[name].to_dict()
    data.update(changes)
    entries[name] = ModelEntry.from_dict(data)
    registry.write_manifest(store.manifest_path, entries)


@pytest.mark.parametrize("name,suffix", [("face_detection_short_range", "tflite"),
                                         ("silero_vad", "onnx"),
                                         ("haarcascade_frontalface_default", "xml")])
def test_garbage_file_with_matching_hash_gives_clear_error(store: ModelStore, name: str,
                                                           suffix: str) -> None:
    """Even a file whose recorded hash matches must fail cleanly if it is not a model."""
    entry = store.info(name)
    garbage = os.urandom(4096)
    (store.models_dir / name / entry.file).write_bytes(garbage)
    rec = {"path": entry.file, "sha256": registry.sha256_file(store.models_dir / name / entry.file),
           "size": len(garbage)}
    _rewrite_entry(store, name, files=[rec], sha256=rec["sha256"], size=len(garbage))
    with pytest.raises(ModelError) as err:
        store.load(name)
    assert err.value.code == "model_invalid"
    assert "not a valid" in err.value.message
    assert store.loaded() == []


def test_manifest_with_missing_fields(store: ModelStore) -> None:
    raw = json.loads(store.manifest_path.read_text())
    del raw["models"]["silero_vad"]["sha256"]
    del raw["models"]["silero_vad"]["licence"]
    store.manifest_path.write_text(json.dumps(raw))
    with pytest.raises(ModelError) as err:
        store.names()
    assert err.value.code == "bad_manifest"
    assert "silero_vad" in err.value.message and "sha256" in err.value.message
    assert "licence" in err.value.message
    # fetch reads leniently so it can repair: the broken entry is simply dropped
    assert "silero_vad" not in registry.read_manifest(store.manifest_path, strict=False)


@pytest.mark.parametrize("bad", [
    {"name": "../../etc"}, {"file": "../../../etc/passwd"}, {"file": "/etc/passwd"},
    {"files": [{"path": "a/../../x", "sha256": "0" * 64, "size": 1}]},
    {"backend": "tensorflow"}, {"files": []}, {"size": "big"}])
def test_manifest_entries_cannot_escape_or_lie(store: ModelStore, bad: dict[str, Any]) -> None:
    data = store.info("silero_vad").to_dict()
    data.update(bad)
    with pytest.raises(ModelError) as err:
        ModelEntry.from_dict(data)
    assert err.value.code == "bad_manifest"


def test_manifest_not_json(store: ModelStore) -> None:
    store.manifest_path.write_text("{not json")
    with pytest.raises(ModelError, match="not valid JSON"):
        store.info("silero_vad")


def test_verified_once_but_rechecked_after_a_change(store: ModelStore,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = registry.sha256_file
    monkeypatch.setattr(registry, "sha256_file", lambda p: calls.append(p) or real(p))
    registry._VERIFIED.clear()
    store.path("emotion_fer")
    store.path("emotion_fer")
    assert len(calls) == 1
    path = store.models_dir / "emotion_fer" / "emotion_model_quantized.tflite"
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    os.utime(path, ns=(1, 1))                                   # a new mtime forces a re-hash
    with pytest.raises(ModelError):
        store.path("emotion_fer")


def test_directory_model_detects_a_changed_file(make_store: Any) -> None:
    store = make_store(("pocketsphinx_en_us",))
    assert store.verify() == {}
    (store.models_dir / "pocketsphinx_en_us" / "en-us" / "en-us" / "noisedict").write_text("x\n")
    bad = store.verify()
    assert list(bad) == ["pocketsphinx_en_us"] and "noisedict" in bad["pocketsphinx_en_us"][0]
    with pytest.raises(ModelError):
        store.path("pocketsphinx_en_us")


def test_data_models_are_not_runnable(model_store: ModelStore) -> None:
    with pytest.raises(ModelError) as err:
        model_store.load("pocketsphinx_en_us")
    assert err.value.code == "not_runnable"


def test_lru_evicts_least_recently_used_over_budget(make_store: Any) -> None:
    # face 230 kB, emotion 93 kB, silero 2.3 MB; counted as max(2 x file, 1 MB)
    store = make_store(memory_mb=6)
    store.load("face_detection_short_range")
    store.load("emotion_fer")
    store.load("face_detection_short_range")          # most recently used now
    store.load("silero_vad")                          # 1 + 1 + 4.6 MB > 6 MB: drop emotion
    assert store.loaded() == ["face_detection_short_range", "silero_vad"]
    assert store._cache.used <= 6 * 1024 * 1024


def test_model_kept_alive_by_holder_after_eviction(make_store: Any) -> None:
    store = make_store(memory_mb=1)
    face = store.load("face_detection_short_range")
    store.load("emotion_fer")
    assert store.loaded() == ["emotion_fer"]
    out = face.run(np.zeros((1, 128, 128, 3), np.float32))
    assert out["regressors"].shape == (1, 896, 16)


def test_doctor_finding(model_store: ModelStore, tmp_path: Path) -> None:
    from labkit.config import Settings
    from labkit.models.health import check_models

    good = check_models(Settings(data_dir=model_store.models_dir.parent, hardware="sim"))
    assert good.ok and "verified" in good.detail and good.data["missing"] == []
    empty = check_models(Settings(data_dir=tmp_path / "fresh", hardware="sim"))
    assert not empty.ok and empty.fix == "labkit models fetch --if-missing"
    assert "face_detection_short_range" in empty.data["missing"]


def test_doctor_lists_the_models_check() -> None:
    from labkit import doctor
    from labkit.cli import load_all_commands, main
    from labkit.models.health import check_models

    load_all_commands(main)     # what `labkit doctor` does before running the checks
    assert check_models in doctor.CHECKS
