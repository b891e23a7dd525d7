"""Model import accepts only self-contained ONNX that loads and runs within limits.

Rebuilt from the probe: (1) a model ZIP whose `model.onnx` keeps its weights as external data
at `secret_key`, relative to the server's working directory — its "probabilities" were the
file's bytes; (2) a sub-kilobyte ONNX with a `Loop` of 2^63-1 iterations that import
validation ran forever. Every import path (/api/learn/import, `labkit models import`) must
refuse such files with a clear message and write nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labkit.models.vetting import (LEARN_LIMITS, PACK_LIMITS, ModelRefused, check_onnx,
                                   vet_model)
from tests.security import poc_models as pm
from tests.security.kit_clients import live_student, student_client

SECRET = "f" * 64

@pytest.fixture
def kit_client(app: Any) -> Any:
    """A browser with a picked name (the routes below need at least a student session)."""
    return student_client(app)



def tree(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every file and folder below root: (size, mtime_ns, mode) — to prove nothing changed."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        out[str(path.relative_to(root))] = (st.st_size if path.is_file() else 0,
                                            st.st_mtime_ns, st.st_mode)
    return out


def model_zip(graph: bytes, *, classes: tuple[str, ...] = ("a", "b"), dim: int = 4) -> bytes:
    """An export ZIP around `graph` whose card passes every check but the graph's own."""
    from labkit.learn.model import CARD_FORMAT

    card = {"format": CARD_FORMAT, "classes": list(classes), "kind": "sensor",
            "name": "exported", "accuracy": 0.9, "trained_at": "2026-11-30T10:00:00+0800",
            "sample_counts": {c: 10 for c in classes},
            "input": {"type": "features", "name": "sensor_window/1", "dim": dim,
                      "channels": ["distance", "light"]}}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("model.onnx", graph)
        zf.writestr("labels.json", json.dumps(list(classes)))
        zf.writestr("card.json", json.dumps(card))
    return buf.getvalue()


@pytest.fixture
def secret_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The server's working directory holds a `secret_key`, as when started from $HOME."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "secret_key").write_text(SECRET)
    monkeypatch.chdir(home)
    return home


# -- the static checks ---------------------------------------------------------------------------

@pytest.mark.parametrize("make, reason", [
    (pm.external_data_classifier, "external_data"),
    (pm.subgraph_external_data_model, "external_data"),
    (pm.custom_domain_model, "custom_op"),
    (lambda: pm.custom_domain_model("com.microsoft", "Attention"), "custom_op"),
    (pm.endless_loop_classifier, "endless_loop"),
    (lambda: b"not a model at all", "not_onnx"),
])
def test_hostile_graphs_are_refused_before_loading(make: Any, reason: str) -> None:
    with pytest.raises(ModelRefused) as err:
        check_onnx(make())
    assert err.value.reason == reason
    assert err.value.code == "bad_model" and err.value.fix


def test_external_data_inside_a_loop_body_is_found() -> None:
    import onnx

    model = onnx.load_model_from_string(pm.endless_loop_classifier(trip_count=3))
    loop = next(n for n in model.graph.node if n.op_type == "Loop")
    body = loop.attribute[0].g
    body.initializer[0].data_location = onnx.TensorProto.EXTERNAL
    entry = body.initializer[0].external_data.add()
    entry.key, entry.value = "location", "secret_key"
    with pytest.raises(ModelRefused) as err:
        check_onnx(model.SerializeToString())
    assert err.value.reason == "external_data"


def test_size_node_and_weight_limits() -> None:
    import onnx
    from onnx import TensorProto, helper

    with pytest.raises(ModelRefused) as err:
        check_onnx(b"\0" * (LEARN_LIMITS.max_bytes + 1))
    assert err.value.reason == "too_large"
    nodes = [helper.make_node("Identity", [f"t{i}"], [f"t{i + 1}"]) for i in range(60)]
    graph = helper.make_graph(nodes, "long", [helper.make_tensor_value_info(
        "t0", TensorProto.FLOAT, [1])], [helper.make_tensor_value_info(
            "t60", TensorProto.FLOAT, [1])])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]
                             ).SerializeToString()
    check_onnx(data)
    with pytest.raises(ModelRefused) as err:
        check_onnx(data, LEARN_LIMITS.scaled(max_nodes=50))
    assert err.value.reason == "too_many_nodes"
    weights = helper.make_tensor("w", TensorProto.FLOAT, [4096], np.ones(4096).tolist())
    graph = helper.make_graph([helper.make_node("Identity", ["w"], ["y"])], "heavy", [],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4096])],
                              [weights])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]
                             ).SerializeToString()
    with pytest.raises(ModelRefused) as err:
        check_onnx(data, LEARN_LIMITS.scaled(max_initializer_bytes=8000))
    assert err.value.reason == "too_large"
    assert onnx.load_model_from_string(data)       # the file itself was fine


def test_the_store_models_pass_vetting(model_store: Any) -> None:
    """The allow-lists and limits fit every model the kit itself runs."""
    for entry in model_store.entries():
        for rec in entry.files:
            from labkit.models.packs import runnable_kind

            kind = runnable_kind(entry, rec.path)
            if kind is None:
                continue
            data = (model_store.models_dir / entry.name / rec.path).read_bytes()
            vetted = vet_model(data, kind, limits=PACK_LIMITS, must_run=False)
            assert vetted.inputs, entry.name
    embedder = model_store.path("efficientnet_lite0_features").read_bytes()
    assert vet_model(embedder, "onnx", limits=LEARN_LIMITS).ran


# -- the child process ---------------------------------------------------------------------------

def test_a_loop_counted_at_run_time_is_killed_by_the_limits() -> None:
    data = pm.endless_loop_classifier(from_input=True)
    check_onnx(data)                                # no static check can see this one
    t0 = time.monotonic()
    with pytest.raises(ModelRefused) as err:
        vet_model(data, limits=LEARN_LIMITS.scaled(cpu_seconds=2, wall_seconds=8))
    assert err.value.reason == "timeout"
    assert time.monotonic() - t0 < 8 + 3


def test_a_model_that_needs_too_much_memory_is_refused() -> None:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("ConstantOfShape", ["shape"], ["big"]),
         helper.make_node("ReduceSum", ["big"], ["probabilities"], keepdims=0)], "hungry", [],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [])],
        [helper.make_tensor("shape", TensorProto.INT64, [1], [4_000_000_000])])
    data = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]
                             ).SerializeToString()
    with pytest.raises(ModelRefused) as err:
        vet_model(data, limits=LEARN_LIMITS, must_run=False)
    assert err.value.reason in ("memory", "timeout")


def test_the_child_cannot_read_the_working_directory(secret_in_cwd: Path) -> None:
    """Even past the static check, the child runs in an empty folder of its own."""
    from labkit.models.vetting import _run_child

    answer = _run_child(pm.external_data_classifier(), "onnx", LEARN_LIMITS)
    assert answer["ok"] is False


# -- /api/learn/import ---------------------------------------------------------------------------

def test_learn_import_refuses_external_data_and_writes_nothing(
        kit_client: Any, settings: Any, secret_in_cwd: Path) -> None:
    import onnxruntime as ort

    graph = pm.external_data_classifier()
    # the hole itself: loaded from bytes in this working directory, it reads secret_key
    leaked = ort.InferenceSession(graph, providers=["CPUExecutionProvider"]).run(
        None, {"features": pm.feature_rows()})[0]
    assert leaked.tolist() == [[ord("f"), ord("f")]]
    before = tree(settings.data_dir)
    r = kit_client.post("/api/learn/import",
                         data={"file": (io.BytesIO(model_zip(graph)), "model.zip")},
                         content_type="multipart/form-data")
    assert r.status_code == 400, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "bad_model"
    assert error["message"] and error["fix"]
    assert tree(settings.data_dir) == before
    assert kit_client.get("/api/learn/projects").get_json()["projects"] == []


def test_learn_import_refusal_is_translated(kit_client: Any) -> None:
    r = kit_client.post("/api/learn/import?lang=zh_CN",
                         data={"file": (io.BytesIO(model_zip(pm.custom_domain_model())),
                                        "model.zip")}, content_type="multipart/form-data")
    assert r.status_code == 400
    message = r.get_json()["error"]["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in message), message


def test_learn_import_refuses_the_endless_loop_quickly(kit_client: Any, settings: Any) -> None:
    before = tree(settings.data_dir)
    t0 = time.monotonic()
    r = kit_client.post("/api/learn/import",
                         data={"file": (io.BytesIO(model_zip(pm.endless_loop_classifier())),
                                        "model.zip")}, content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_model"
    assert time.monotonic() - t0 < 10
    assert tree(settings.data_dir) == before


@pytest.mark.slow
def test_server_stays_responsive_while_a_spinning_model_is_refused(
        server_factory: Any, tmp_path: Path) -> None:
    server = server_factory()
    opener, token = live_student(server)

    def import_request(graph: bytes) -> urllib.request.Request:
        body, boundary = _multipart(model_zip(graph))
        return urllib.request.Request(
            server.url + "/api/learn/import", data=body, method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                     "X-CSRFToken": token})

    # warm up: the first import loads the onnx package into the server (seconds, once)
    with pytest.raises(urllib.error.HTTPError):
        opener.open(import_request(pm.custom_domain_model()), timeout=60)
    request = import_request(pm.endless_loop_classifier(from_input=True))
    answer: dict[str, Any] = {}

    def post() -> None:
        t0 = time.monotonic()
        try:
            opener.open(request, timeout=60)
        except urllib.error.HTTPError as exc:
            answer["status"], answer["body"] = exc.code, json.loads(exc.read())
        answer["seconds"] = time.monotonic() - t0

    before = tree(server.data_dir / "learn") if (server.data_dir / "learn").exists() else {}
    worker = threading.Thread(target=post)
    worker.start()
    time.sleep(1.0)
    health = []
    while worker.is_alive():
        t0 = time.monotonic()
        with urllib.request.urlopen(server.url + "/healthz", timeout=5) as r:
            health.append((r.status, time.monotonic() - t0))
        time.sleep(0.5)
    worker.join()
    assert answer.get("status") == 400, answer
    assert answer["body"]["error"]["code"] == "bad_model"
    # bounded by the wall timeout (plus upload and start-up on a busy machine), not endless
    assert answer["seconds"] < LEARN_LIMITS.wall_seconds + 10
    assert health and all(status == 200 and s < 2.0 for status, s in health), health
    after = tree(server.data_dir / "learn") if (server.data_dir / "learn").exists() else {}
    assert after == before


def _multipart(data: bytes) -> tuple[bytes, str]:
    boundary = "labkit" + hashlib.sha256(data).hexdigest()[:16]
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"model.zip\"\r\nContent-Type: application/zip\r\n\r\n").encode()
    return body + data + f"\r\n--{boundary}--\r\n".encode(), boundary


# -- labkit models import (packs) ---------------------------------------------------------------

def _store_with(tmp_path: Path, where: str, files: dict[str, bytes]) -> Any:
    """A model store holding one 'evil' ONNX model made of `files` (manifest matching)."""
    from labkit.models import ModelStore
    from labkit.models.registry import FileRecord, ModelEntry, tree_digest, write_manifest

    models_dir = tmp_path / where / "models"
    (models_dir / "evil").mkdir(parents=True)
    records = []
    for rel, blob in files.items():
        (models_dir / "evil" / rel).write_bytes(blob)
        records.append(FileRecord(rel, hashlib.sha256(blob).hexdigest(), len(blob)))
    main = next(iter(files))
    entry = ModelEntry(name="evil", task="classify", backend="onnx", file=main,
                       sha256=records[0].sha256, size=sum(r.size for r in records),
                       files=records, licence="MIT", source={"package": "x", "version": "1"})
    assert tree_digest(records)
    write_manifest(models_dir / "manifest.json", {"evil": entry})
    return ModelStore(models_dir=models_dir, threads=1)


@pytest.mark.parametrize("graph", [pm.external_data_classifier(), pm.endless_loop_classifier(),
                                   pm.custom_domain_model()],
                         ids=["external_data", "endless_loop", "custom_op"])
def test_models_import_refuses_hostile_onnx_and_changes_nothing(graph: bytes,
                                                               tmp_path: Path) -> None:
    from labkit.models import ModelError, ModelStore
    from labkit.models.packs import export_pack, import_pack

    src = _store_with(tmp_path, "src", {"evil.onnx": graph, "secret_key": SECRET.encode()})
    pack = export_pack(src, ["evil"], tmp_path / "usb")
    dst_dir = tmp_path / "kit" / "models"
    dst_dir.mkdir(parents=True)
    dst = ModelStore(models_dir=dst_dir, threads=1)
    before = tree(dst_dir)
    with pytest.raises(ModelError) as err:
        import_pack(dst, pack)
    assert err.value.code == "bad_model", err.value.one_line()
    assert "refused" in err.value.message
    assert tree(dst_dir) == before


def test_models_import_cli_is_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.helpers import LABKIT, labkit_env

    src = _store_with(tmp_path, "src", {"evil.onnx": pm.external_data_classifier()})
    from labkit.models.packs import export_pack

    pack = export_pack(src, ["evil"], tmp_path / "usb")
    data = tmp_path / "data"
    data.mkdir()
    proc = subprocess.run([*LABKIT, "models", "import", str(pack)], capture_output=True,
                          text=True, env=labkit_env(data), timeout=120, cwd=str(tmp_path))
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "refused" in lines[0], proc.stderr
    assert not (data / "models" / "evil").exists()
    assert sys.executable
    assert os.path.exists(pack)


def test_a_broken_tflite_in_a_pack_is_refused(tmp_path: Path) -> None:
    from labkit.models import ModelError, ModelStore
    from labkit.models.packs import export_pack, import_pack
    from labkit.models.registry import FileRecord, ModelEntry, write_manifest

    blob = b"TFL3" + os.urandom(2000)
    models_dir = tmp_path / "src" / "models"
    (models_dir / "evil").mkdir(parents=True)
    (models_dir / "evil" / "evil.tflite").write_bytes(blob)
    rec = FileRecord("evil.tflite", hashlib.sha256(blob).hexdigest(), len(blob))
    entry = ModelEntry(name="evil", task="detect", backend="litert", file=rec.path,
                       sha256=rec.sha256, size=rec.size, files=[rec], licence="MIT",
                       source={"package": "x", "version": "1"})
    write_manifest(models_dir / "manifest.json", {"evil": entry})
    pack = export_pack(ModelStore(models_dir=models_dir, threads=1), ["evil"], tmp_path / "usb")
    dst_dir = tmp_path / "kit" / "models"
    dst_dir.mkdir(parents=True)
    before = tree(dst_dir)
    with pytest.raises(ModelError) as err:
        import_pack(ModelStore(models_dir=dst_dir, threads=1), pack)
    assert err.value.code == "bad_model" and "TensorFlow Lite" in err.value.message
    assert tree(dst_dir) == before
