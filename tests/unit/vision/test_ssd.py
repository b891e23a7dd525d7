"""ssd.decode / ssd.weighted_nms are fast two ways: vectorised for many candidates (an IoU
matrix, a greedy pass on bit sets, all clusters summed at once) and on Python floats for a few
(ssd.SMALL). These tests pin both ways to the straightforward one-cluster-at-a-time numpy
formulation: the values must be *identical*, not merely close, so the oracle comparisons cannot
drift."""

from __future__ import annotations

import math

import numpy as np
import pytest

from labkit.vision import ssd


@pytest.fixture(params=["python", "numpy"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test once with the Python-float way for a few candidates, once numpy's only."""
    monkeypatch.setattr(ssd, "SMALL", ssd.SMALL if request.param == "python" else 0)
    return request.param


def reference_decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, spec: ssd.SsdSpec,
                     threshold: float) -> ssd.Detections:
    logits = raw_scores.reshape(-1)
    keep = np.flatnonzero(logits >= math.log(threshold / (1.0 - threshold)))
    k = spec.num_keypoints
    x = np.clip(logits[keep].astype(np.float64), -spec.score_clipping, spec.score_clipping)
    scores = 1.0 / (1.0 + np.exp(-x))
    ok = scores >= threshold
    keep, scores = keep[ok], scores[ok]
    anchor = ssd.anchors(spec)[keep]
    raw = raw_boxes.reshape(-1, raw_boxes.shape[-1])[keep, :4 + 2 * k].astype(np.float64)
    raw /= spec.scale
    half = raw[:, 2:4] / 2
    centre = raw[:, :2] + anchor
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    kp = raw[:, 4:].reshape(-1, k, 2) + anchor[:, None, :]
    valid = (half >= 0).all(axis=1)
    return ssd.Detections(boxes[valid], kp[valid], scores[valid])


def reference_nms(dets: ssd.Detections, threshold: float, max_detections: int = 0) -> ssd.Detections:
    order = np.argsort(-dets.scores, kind="stable")
    boxes, kps, scores = dets.boxes[order], dets.keypoints[order], dets.scores[order]
    out_b, out_k, out_s = [], [], []
    remaining = np.arange(len(scores))
    while remaining.size:
        best = remaining[0]
        b, bs = boxes[best], boxes[remaining]
        ix = np.maximum(np.minimum(b[2], bs[:, 2]) - np.maximum(b[0], bs[:, 0]), 0.0)
        iy = np.maximum(np.minimum(b[3], bs[:, 3]) - np.maximum(b[1], bs[:, 1]), 0.0)
        inter = ix * iy
        union = (b[2] - b[0]) * (b[3] - b[1]) + (bs[:, 2] - bs[:, 0]) * (bs[:, 3] - bs[:, 1]) - inter
        with np.errstate(divide="ignore", invalid="ignore"):
            sim = np.where(union > 0, inter / union, 0.0)
        members = remaining[sim > threshold]
        if members.size == 0:
            members = remaining[:1]
        weights = scores[members][:, None]
        total = weights.sum()
        out_b.append((boxes[members] * weights).sum(0) / total)
        out_k.append((kps[members] * weights[:, :, None]).sum(0) / total)
        out_s.append(scores[best])
        remaining = remaining[sim <= threshold]
        remaining = remaining[remaining != best]
        if max_detections and len(out_s) >= max_detections:
            break
    if not out_s:
        return ssd.Detections(np.zeros((0, 4)), np.zeros((0, kps.shape[1], 2)), np.zeros(0))
    return ssd.Detections(np.array(out_b), np.array(out_k), np.array(out_s))


def same(a: ssd.Detections, b: ssd.Detections) -> bool:
    return all(x.shape == y.shape and x.tobytes() == y.tobytes()
               for x, y in ((a.boxes, b.boxes), (a.keypoints, b.keypoints), (a.scores, b.scores)))


def fake_outputs(rng: np.random.Generator, spec: ssd.SsdSpec, faces: int) -> tuple[np.ndarray, np.ndarray]:
    """Model-like outputs: a few objects, each firing several neighbouring anchors (clusters
    from 1 to ~15 members), plus the odd negative-size box."""
    n = len(ssd.anchors(spec))
    width = 4 + 2 * spec.num_keypoints
    boxes = rng.normal(0, 4, (1, n, width)).astype(np.float32)
    boxes[..., 2:4] = np.abs(boxes[..., 2:4]) + 20
    scores = rng.normal(-8, 2, (1, n, 1)).astype(np.float32)
    anchors = ssd.anchors(spec)
    for _ in range(faces):
        centre = rng.random(2)
        near = np.argsort(((anchors - centre) ** 2).sum(1))[:rng.integers(1, 16)]
        scores[0, near, 0] = rng.normal(2, 1.5, near.size)
        boxes[0, near, 2:4] = rng.uniform(15, 40, (near.size, 1))
    if rng.random() < 0.3:
        boxes[0, rng.integers(n), 2] = -5.0
    return boxes, scores


@pytest.mark.parametrize("spec", [ssd.FACE_SHORT, ssd.PALM], ids=["face", "palm"])
def test_decode_and_nms_match_the_plain_numpy_version_bit_for_bit(spec: ssd.SsdSpec,
                                                                   way: str) -> None:
    rng = np.random.default_rng(5)
    sizes = set()
    for trial in range(300):
        raw_boxes, raw_scores = fake_outputs(rng, spec, faces=int(rng.integers(0, 4)))
        threshold = float(rng.choice([0.3, 0.5, 0.75]))
        got = ssd.decode(raw_boxes[0], raw_scores[0], spec, threshold)
        want = reference_decode(raw_boxes[0], raw_scores[0], spec, threshold)
        assert same(got, want), f"decode differs in trial {trial}"
        sizes.add(len(want))
        for limit in (0, 1):
            assert same(ssd.weighted_nms(got, 0.3, limit), reference_nms(want, 0.3, limit)), \
                f"weighted_nms differs in trial {trial} (max_detections={limit})"
    # the trials covered empty frames and clusters past numpy's 8-term pairwise summation
    assert 0 in sizes and max(sizes) >= 8


def test_iou_has_no_warnings_for_empty_boxes() -> None:
    box = np.array([0.2, 0.2, 0.2, 0.2])
    with np.errstate(all="raise"):
        assert ssd.iou(box, np.array([box, [0.1, 0.1, 0.3, 0.3]])).tolist() == [0.0, 0.0]


def _dets(rows: np.ndarray, scores: np.ndarray, k: int = 2) -> ssd.Detections:
    return ssd.Detections(rows[:, :4], rows[:, 4:].reshape(-1, k, 2), scores)


def test_nms_of_no_candidates_is_empty(way: str) -> None:
    for k in (4, 6, 7):
        empty = ssd.Detections(np.zeros((0, 4)), np.zeros((0, k, 2)), np.zeros(0))
        for limit in (0, 1):
            out = ssd.weighted_nms(empty, 0.3, limit)
            assert len(out) == 0 and out.boxes.shape == (0, 4)
            assert out.keypoints.shape == (0, k, 2) and out.as_lists() == ([], [], [])


def test_decode_of_a_silent_frame_is_empty(way: str) -> None:
    spec = ssd.FACE_SHORT
    n = len(ssd.anchors(spec))
    boxes = np.zeros((n, 16), np.float32)
    for logits in (np.full((n, 1), -20.0, np.float32), np.full((n, 1), np.nan, np.float32)):
        got = ssd.decode(boxes, logits, spec, 0.5)
        assert len(got) == 0 and got.keypoints.shape == (0, 6, 2)
    assert len(ssd.decode(boxes, np.full((n, 1), 20.0, np.float32), spec, 1.0)) == 0


@pytest.mark.parametrize("seed", range(4))
def test_nms_matches_the_reference_with_tied_scores_and_identical_boxes(seed: int,
                                                                       way: str) -> None:
    """Equal scores keep the candidates' order (a stable sort), identical boxes (IoU 1) and
    zero-size boxes (IoU 0 with everything) land in the same clusters as the reference."""
    rng = np.random.default_rng(seed)
    for trial in range(150):
        n = int(rng.integers(1, 30))
        centres = rng.random((n, 2))
        size = rng.uniform(0.0, 0.3, (n, 2)) * (rng.random((n, 1)) > 0.1)   # some zero-size
        rows = np.concatenate([centres - size / 2, centres + size / 2, rng.random((n, 4))], 1)
        dup = rng.random(n) < 0.3                  # copies of the first box
        rows[dup, :4] = rows[0, :4]
        scores = rng.choice([0.6, 0.7, 0.9], n)   # many ties
        dets = _dets(rows, scores)
        for threshold in (0.0, 0.3, 0.99):
            for limit in (0, 1, 2):
                assert same(ssd.weighted_nms(dets, threshold, limit),
                            reference_nms(dets, threshold, limit)), (seed, trial, threshold)


def test_nms_cost_is_one_step_per_cluster_not_per_pair() -> None:
    """Forty candidates forming two clusters: two greedy steps, two output detections."""
    rng = np.random.default_rng(1)
    rows = np.concatenate([np.tile([0.1, 0.1, 0.3, 0.3], (20, 1)),
                           np.tile([0.6, 0.6, 0.9, 0.9], (20, 1))]) + rng.normal(0, 1e-3, (40, 4))
    rows = np.concatenate([rows, rng.random((40, 4))], 1)
    dets = _dets(rows, rng.random(40))
    over = ssd.iou_matrix(dets.boxes) > 0.3
    np.fill_diagonal(over, True)
    assert len(ssd._greedy_centres(over, 0)) == 2
    assert same(ssd.weighted_nms(dets, 0.3), reference_nms(dets, 0.3))
    assert len(ssd.weighted_nms(dets, 0.3)) == 2


def test_iou_matrix_rows_equal_iou() -> None:
    rng = np.random.default_rng(3)
    lo = rng.random((12, 2))
    boxes = np.concatenate([lo, lo + rng.uniform(0, 0.4, (12, 2))], 1)
    boxes[3, 2:] = boxes[3, :2]                    # a zero-size box
    matrix = ssd.iou_matrix(boxes)
    for i, box in enumerate(boxes):
        assert matrix[i].tobytes() == ssd.iou(box, boxes).tobytes()


def test_not_finite_outputs_decode_and_cluster_as_the_reference(way: str) -> None:
    """A NaN or infinite box value (a broken model): Python's min/max treat NaN unlike
    numpy's, yet both ways give the reference's detections and clusters."""
    spec = ssd.FACE_SHORT
    rng = np.random.default_rng(11)
    for trial in range(60):
        raw_boxes, raw_scores = fake_outputs(rng, spec, faces=2)
        near = np.flatnonzero(raw_scores[0, :, 0] > 0)
        if near.size == 0:
            continue
        column = int(rng.choice([0, 1, 4, int(rng.integers(0, 16))]))
        bad = rng.choice(near, size=min(2, near.size), replace=False)
        raw_boxes[0, bad, column] = rng.choice([np.nan, np.inf, -np.inf])
        got = ssd.decode(raw_boxes[0], raw_scores[0], spec, 0.5)
        want = reference_decode(raw_boxes[0], raw_scores[0], spec, 0.5)
        assert same(got, want), trial
        with np.errstate(invalid="ignore"):
            assert same(ssd.weighted_nms(got, 0.3), reference_nms(want, 0.3)), trial


def test_a_few_candidates_come_back_as_the_lists_the_detectors_read() -> None:
    rng = np.random.default_rng(2)
    raw_boxes, raw_scores = fake_outputs(rng, ssd.FACE_SHORT, faces=3)
    dets = ssd.weighted_nms(ssd.decode(raw_boxes[0], raw_scores[0], ssd.FACE_SHORT, 0.5), 0.3)
    boxes, keypoints, scores = dets.as_lists()
    assert 0 < len(dets) <= ssd.SMALL
    assert boxes == dets.boxes.tolist() and keypoints == dets.keypoints.tolist()
    assert scores == dets.scores.tolist()


def test_scores_past_the_clip_match_the_clipped_reference(way: str) -> None:
    """Logits beyond ±score_clipping (a saturated model): the few-candidate way leaves the clip
    out where it cannot change a score; the scores stay the reference's, bit for bit."""
    spec = ssd.FACE_SHORT
    rng = np.random.default_rng(4)
    for threshold in (1e-50, 0.3, 0.5):
        raw_boxes, raw_scores = fake_outputs(rng, spec, faces=2)
        near = np.flatnonzero(raw_scores[0, :, 0] > 0)
        raw_scores[0, near[: near.size // 2], 0] = rng.choice([45.0, 150.0, np.inf])
        if threshold < 1e-40:          # a few logits below -clip are kept too
            background = raw_scores[0, :, 0] < 0
            raw_scores[0, background, 0] = -200.0
            raw_scores[0, np.flatnonzero(background)[:8], 0] = -105.0
        got = ssd.decode(raw_boxes[0], raw_scores[0], spec, threshold)
        want = reference_decode(raw_boxes[0], raw_scores[0], spec, threshold)
        assert same(got, want), threshold
