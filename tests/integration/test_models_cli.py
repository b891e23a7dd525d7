"""`labkit models …` as a teacher runs it: real subprocesses on a data dir with real models."""

from __future__ import annotations

import builtins
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.helpers import LABKIT, REPO, labkit_env

NAMES = ("face_detection_short_range", "silero_vad", "emotion_fer")


def run(args: list[str], data: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(LABKIT + ["models", *args], env=labkit_env(data, **env), cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def one_error_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [x for x in result.stderr.splitlines() if x.startswith("labkit: error:")]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.name != ".lock":
            h.update(p.relative_to(folder).as_posix().encode())
            if p.is_file():
                h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def kit(tmp_path: Path, model_store: Any) -> Path:
    """A data dir holding copies of a few real models (as `labkit models fetch` leaves them)."""
    from labkit.models.registry import write_manifest

    data = tmp_path / "kit"
    models = data / "models"
    models.mkdir(parents=True)
    for name in NAMES:
        shutil.copytree(model_store.models_dir / name, models / name)
    write_manifest(models / "manifest.json", {n: model_store.info(n) for n in NAMES})
    return data


def test_list_info_verify(kit: Path) -> None:
    res = run(["list", "--json"], kit)
    assert res.returncode == 0, res.stderr
    listed = json.loads(res.stdout)
    assert [e["name"] for e in listed] == sorted(NAMES)
    assert all(len(e["sha256"]) == 64 and e["source"]["version"] for e in listed)
    table = run(["list"], kit).stdout
    assert "face_detection_short_range" in table and "mediapipe==0.10.14" in table
    info = run(["info", "face_detection_short_range"], kit).stdout
    assert "input       input [1, 128, 128, 3] float32" in info
    assert "regressors [1, 896, 16]" in info
    assert run(["info", "silero_vad", "--licence"], kit).stdout.startswith("MIT License")
    ok = run(["verify"], kit)
    assert ok.returncode == 0 and "all 3 model(s) match" in ok.stdout


def test_verify_lists_damaged_models(kit: Path) -> None:
    f = kit / "models" / "silero_vad" / "silero_vad.onnx"
    f.write_bytes(f.read_bytes()[:-10] + b"0123456789")
    res = run(["verify"], kit)
    assert res.returncode == 1
    assert "BAD  silero_vad" in res.stdout and "ok   emotion_fer" in res.stdout
    assert "labkit models fetch silero_vad" in res.stderr
    one_error_line(run(["bench", "silero_vad", "--runs", "2"], kit), "damaged", "silero_vad")


def test_unknown_name_is_one_line(kit: Path) -> None:
    before = tree_hash(kit / "models")
    one_error_line(run(["info", "blazeface"], kit), "no model named 'blazeface'",
                   "labkit models fetch")
    assert tree_hash(kit / "models") == before


def test_export_import_round_trip(kit: Path, tmp_path: Path) -> None:
    res = run(["export", *NAMES, "--to", str(tmp_path / "usb")], kit)
    assert res.returncode == 0, res.stderr
    packs = list((tmp_path / "usb").glob("*.labkit-models.tar"))
    assert len(packs) == 1
    clean = tmp_path / "other-kit"
    res = run(["import", str(packs[0])], clean)
    assert res.returncode == 0, res.stderr
    assert "imported 3 model(s)" in res.stdout
    a = json.loads(run(["list", "--json"], kit).stdout)
    b = json.loads(run(["list", "--json"], clean).stdout)
    assert [(e["name"], e["sha256"], e["files"]) for e in a] == \
        [(e["name"], e["sha256"], e["files"]) for e in b]
    for name in NAMES:
        assert tree_hash(kit / "models" / name) == tree_hash(clean / "models" / name)
    assert run(["verify"], clean).returncode == 0


def test_import_of_a_bad_pack_changes_nothing(kit: Path, tmp_path: Path) -> None:
    bad = tmp_path / "evil.labkit-models.tar"
    with tarfile.open(bad, "w") as tf:
        link = tarfile.TarInfo("silero_vad/silero_vad.onnx")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/shadow"
        tf.addfile(link)
    before = tree_hash(kit / "models")
    one_error_line(run(["import", str(bad)], kit), "evil.labkit-models.tar", "link",
                   "nothing was changed")
    assert tree_hash(kit / "models") == before


def test_fetch_if_missing_is_offline_when_present(kit: Path, tmp_path: Path) -> None:
    res = run(["fetch", "--if-missing", "--quiet", *NAMES], kit,
              LABKIT_MODEL_CACHE=str(tmp_path / "empty-cache"))
    assert res.returncode == 0, res.stderr
    assert "3 model(s) already present" in res.stdout
    assert not (tmp_path / "empty-cache").exists()


def test_fetch_without_registry_is_one_line(kit: Path, tmp_path: Path) -> None:
    before = tree_hash(kit / "models")
    res = run(["fetch", "--quiet", "selfie_segmentation"], kit,
              LABKIT_MODEL_CACHE=str(tmp_path / "empty-cache"), PIP_NO_INDEX="1",
              PIP_CONFIG_FILE="/dev/null", PIP_FIND_LINKS="")
    one_error_line(res, "could not download", "mediapipe==0.10.14", "LABKIT_MODEL_CACHE")
    assert tree_hash(kit / "models") == before


def test_bench_prints_latency(kit: Path) -> None:
    res = run(["bench", "face_detection_short_range", "--runs", "5", "--threads", "1",
               "--json"], kit)
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert rows[0]["backend"].startswith("litert") and rows[0]["runs"] == 5
    assert 0 < rows[0]["p50_ms"] <= rows[0]["p95_ms"]


def test_quantize_cli(tmp_path: Path, kit: Path) -> None:
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    clf = LogisticRegression().fit(X, y)
    src = tmp_path / "logreg.onnx"
    src.write_bytes(to_onnx(clf, X[:1], options={id(clf): {"zipmap": False}})
                    .SerializeToString())
    calib = tmp_path / "calib"
    calib.mkdir()
    np.save(calib / "x.npy", X)
    res = run(["quantize", str(src), "--calib", str(calib), "--json"], kit)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["mode"] == "dynamic" and report["samples"] == 300
    assert report["agreement"] >= 0.99
    assert Path(report["dst"]).name == "logreg.int8.onnx" and Path(report["dst"]).exists()
    assert "no operator could be quantized" in report["note"]   # ONNX-ML LinearClassifier
    one_error_line(run(["quantize", str(src), "--calib", str(tmp_path / "none")], kit),
                   "calibration folder")


def test_no_runtime_installed_exit_2(kit: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process (imports can only be hidden here): LiteRT and tflite_runtime both missing."""
    import importlib

    from click.testing import CliRunner

    from labkit.cli import main

    real_import, real_import_module = builtins.__import__, importlib.import_module
    blocked = ("ai_edge_litert", "tflite_runtime")

    def fake_import(name: str, *a: Any, **k: Any) -> Any:
        if name.startswith(blocked):
            raise ImportError(name)
        return real_import(name, *a, **k)

    def fake_import_module(name: str, *a: Any) -> Any:
        if name.startswith(blocked):
            raise ImportError(name)
        return real_import_module(name, *a)

    for mod in [m for m in sys.modules if m.startswith(blocked)]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setattr(importlib, "import_module", fake_import_module)
    monkeypatch.setenv("LABKIT_DATA", str(kit))
    before = tree_hash(kit / "models")
    result = CliRunner().invoke(main, ["models", "bench", "face_detection_short_range",
                                       "--runs", "2"])
    assert result.exit_code == 2, result.output
    assert "ai_edge_litert" in result.output and "tflite_runtime" in result.output
    assert tree_hash(kit / "models") == before
