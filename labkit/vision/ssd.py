"""Single-shot detector post-processing shared by BlazeFace, the palm and the pose detector.

The models output, per anchor, a box offset plus keypoints and one score logit. Turning those
into detections is ours (DESIGN § 3): generate the anchors exactly as mediapipe's
SsdAnchorsCalculator does for each model's graph config, decode against them
(TensorsToDetectionsCalculator), then merge overlapping boxes with *weighted* non-maximum
suppression (a score-weighted average of the cluster, which is steadier from frame to frame
than plain NMS). Vectorised with numpy over the kept candidates, so the cost hardly grows with
the number of detections.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class SsdSpec:
    """An SSD graph config: anchors + decoding. Field names follow mediapipe's options."""

    input_size: int
    strides: tuple[int, ...]
    num_keypoints: int
    min_scale: float = 0.1484375
    max_scale: float = 0.75
    anchor_offset: float = 0.5
    interpolated_scale_aspect_ratio: float = 1.0
    score_clipping: float = 100.0
    min_score: float = 0.5
    nms_threshold: float = 0.3

    @property
    def scale(self) -> float:
        return float(self.input_size)


#: face_detection_short_range.pbtxt (BlazeFace front camera): 896 anchors, 6 keypoints
FACE_SHORT = SsdSpec(128, (8, 16, 16, 16), 6)
#: face_detection_full_range.pbtxt (sparse model): one 48×48 layer, 2304 anchors
FACE_FULL = SsdSpec(192, (4,), 6, interpolated_scale_aspect_ratio=0.0, min_score=0.6)
#: palm_detection_cpu.pbtxt (lite/full 0.10.x): 2016 anchors, 7 keypoints
PALM = SsdSpec(192, (8, 16, 16, 16), 7)
#: pose_detection_cpu.pbtxt: 2254 anchors, 4 keypoints
POSE = SsdSpec(224, (8, 16, 32, 32, 32), 4)


@lru_cache(maxsize=None)
def anchors(spec: SsdSpec) -> np.ndarray:
    """Anchor centres (N, 2) in normalised x, y. All four models use fixed-size anchors
    (w = h = 1), so only the centres matter; layers with the same stride share a grid."""
    centres: list[np.ndarray] = []
    strides = spec.strides
    layer = 0
    while layer < len(strides):
        per_cell = 0
        last = layer
        while last < len(strides) and strides[last] == strides[layer]:
            per_cell += 1  # aspect ratio 1.0
            if spec.interpolated_scale_aspect_ratio > 0:
                per_cell += 1
            last += 1
        stride = strides[layer]
        size = int(np.ceil(spec.input_size / stride))
        ys, xs = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
        grid = np.stack([(xs + spec.anchor_offset) / size, (ys + spec.anchor_offset) / size], -1)
        centres.append(np.repeat(grid.reshape(-1, 2), per_cell, axis=0))
        layer = last
    return np.concatenate(centres).astype(np.float64)


class Detections:
    """Decoded detections in normalised tensor coordinates.

    boxes (N, 4) xmin, ymin, xmax, ymax; keypoints (N, K, 2) x, y; scores (N,). Held as one
    (N, 4 + 2K) `rows` array (boxes then keypoints) so decode and NMS move a candidate with
    one index instead of two; `boxes` and `keypoints` are views of it."""

    __slots__ = ("rows", "scores", "_k", "_lists")

    def __init__(self, boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray) -> None:
        k = keypoints.shape[1] if keypoints.ndim == 3 else 0
        rows = np.concatenate([np.asarray(boxes, np.float64).reshape(-1, 4),
                               np.asarray(keypoints, np.float64).reshape(-1, 2 * k)], axis=1)
        self._init(rows, np.asarray(scores, np.float64).reshape(-1), k)

    def _init(self, rows: np.ndarray, scores: np.ndarray, k: int) -> None:
        self.rows, self.scores, self._k = rows, scores, k
        self._lists: tuple[list, list, list] | None = None

    @classmethod
    def from_rows(cls, rows: np.ndarray, scores: np.ndarray, k: int) -> "Detections":
        dets = cls.__new__(cls)
        dets._init(rows, scores, k)
        return dets

    @classmethod
    def empty(cls, k: int) -> "Detections":
        """No detections (one shared, read-only instance per keypoint count: the usual
        frame has nothing, and it is not worth two allocations)."""
        return _empty(k)

    @property
    def boxes(self) -> np.ndarray:
        return self.rows[:, :4]

    @property
    def keypoints(self) -> np.ndarray:
        return self.rows[:, 4:].reshape(-1, self._k, 2)

    def as_lists(self) -> tuple[list, list, list]:
        """(boxes, keypoints, scores) as nested lists of Python floats."""
        if self._lists is None:
            self._lists = (self.boxes.tolist(), self.keypoints.tolist(), self.scores.tolist())
        return self._lists

    def __len__(self) -> int:
        return len(self.scores)


@lru_cache(maxsize=None)
def _empty(k: int) -> Detections:
    rows, scores = np.zeros((0, 4 + 2 * k)), np.zeros(0)
    rows.flags.writeable = scores.flags.writeable = False
    return Detections.from_rows(rows, scores, k)


@lru_cache(maxsize=None)
def _offsets(spec: SsdSpec) -> np.ndarray:
    """Per anchor, what decoding adds to a raw row (divided by the input size): the anchor
    centre to the box centre and to every keypoint, nothing to the box size."""
    centres = anchors(spec)
    out = np.zeros((len(centres), 4 + 2 * spec.num_keypoints))
    out[:, 0::2] = centres[:, :1]
    out[:, 1::2] = centres[:, 1:]
    out[:, 2:4] = 0.0
    return out


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, spec: SsdSpec,
           min_score: float | None = None) -> Detections:
    """Raw model outputs → detections above `min_score` (sigmoid of the clipped logit).

    Vectorised over the kept candidates, so a frame with five faces (some 25 candidates)
    costs what a frame with one does; the logits are compared with the threshold's logit
    first, so the usual empty frame returns after one comparison."""
    threshold = spec.min_score if min_score is None else min_score
    logits = raw_scores.reshape(-1)
    k = spec.num_keypoints
    if 0.0 < threshold < 1.0:
        keep = (logits >= math.log(threshold / (1.0 - threshold))).nonzero()[0]
    elif threshold <= 0.0:
        keep = np.arange(logits.size)
    else:
        return Detections.empty(k)
    if keep.size == 0:   # the usual frame: nothing there
        return Detections.empty(k)
    clip = spec.score_clipping
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits[keep].astype(np.float64), -clip, clip)))
    width = 4 + 2 * k
    rows = raw_boxes.reshape(-1, raw_boxes.shape[-1])[keep, :width].astype(np.float64)
    rows /= spec.scale
    rows += _offsets(spec)[keep]       # centre and keypoints + anchor
    half = rows[:, 2:4] / 2
    # a NaN score or a negative (or NaN) size is no detection
    ok = (scores >= threshold) & (half >= 0).all(axis=1)
    rows[:, 2:4] = rows[:, :2] + half   # xmax, ymax
    rows[:, :2] -= half                 # xmin, ymin
    if not ok.all():
        rows, scores = rows[ok], scores[ok]
    return Detections.from_rows(rows, scores, k)


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one box against many (xmin, ymin, xmax, ymax)."""
    ix = np.maximum(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0.0)
    iy = np.maximum(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0.0)
    inter = ix * iy
    union = ((box[2] - box[0]) * (box[3] - box[1])
             + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) - inter)
    positive = union > 0
    # dividing by 1 where the union is empty (instead of np.errstate, which costs ~4 µs)
    return np.where(positive, inter / np.where(positive, union, 1.0), 0.0)


def iou_matrix(boxes: np.ndarray) -> np.ndarray:
    """Pairwise IoU (N, N), each entry computed with the same operations as `iou`."""
    lo = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    size = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    size -= lo
    np.maximum(size, 0.0, out=size)
    inter = size[..., 0] * size[..., 1]
    wh = boxes[:, 2:] - boxes[:, :2]
    area = wh[:, 0] * wh[:, 1]
    union = area[:, None] + area - inter
    positive = union > 0
    return np.where(positive, inter / np.where(positive, union, 1.0), 0.0)


def _greedy_centres(over: np.ndarray, max_detections: int) -> list[int]:
    """The greedy NMS pass: the best remaining candidate becomes a cluster centre and removes
    every candidate it overlaps. One step per *cluster* (not per pair), on Python ints used
    as bit sets of the candidates (row i of `over`, packed)."""
    n = len(over)
    packed = np.packbits(over, axis=1, bitorder="little")
    remaining = (1 << n) - 1
    centres: list[int] = []
    while remaining:
        best = (remaining & -remaining).bit_length() - 1     # the lowest index left
        remaining &= ~int.from_bytes(packed[best].tobytes(), "little")
        centres.append(best)
        if max_detections and len(centres) >= max_detections:
            break
    return centres


def weighted_nms(dets: Detections, threshold: float, max_detections: int = 0) -> Detections:
    """mediapipe's WEIGHTED non-max suppression: each cluster (IoU > threshold with the best
    remaining box, the best included) becomes the score-weighted mean of its boxes and
    keypoints, with the best box's score.

    Vectorised: one IoU matrix, a greedy pass per cluster on bit sets, then all clusters'
    weighted sums at once. Each cluster's sums add its members in score order one after
    another (what numpy's `(x * w).sum(0)` does on that axis), so the values are exactly
    those of the one-cluster-at-a-time numpy formulation."""
    k = dets._k
    if dets.scores.size == 0:
        return Detections.empty(k)
    order = np.argsort(-dets.scores, kind="stable")
    rows, scores = dets.rows[order], dets.scores[order]
    over = iou_matrix(rows[:, :4]) > threshold
    # a box is in its own cluster (a degenerate one, IoU 0 with everything, alone)
    np.fill_diagonal(over, True)
    centres = _greedy_centres(over, max_detections)
    clusters = len(centres)
    if clusters == 1:
        # one cluster (one face in view, the usual case): right after a model run each numpy
        # call costs several µs of cold caches, so its weighted mean is taken directly
        rows, scores = rows[over[0]], scores[over[0]]   # (over[0]: all, unless cut short)
        weights = scores[:, None]
        mean = (rows * weights).sum(0) / weights.sum()
        return Detections.from_rows(mean[None], scores[:1], k)
    cover = over[centres]                        # (clusters, candidates)
    # a candidate belongs to the first centre that covers it (it was removed right then)
    label = cover.argmax(axis=0)
    if max_detections:                           # candidates of clusters cut off: none
        label = np.where(cover.any(axis=0), label, clusters)
    member = np.argsort(label, kind="stable")    # by cluster, score order within each
    label = label[member]
    starts = np.searchsorted(label, np.arange(clusters + 1))
    used = int(starts[-1])
    member, label = member[:used], label[:used]
    slot = np.arange(used) - starts[label]
    weights = scores[member]
    # members side by side, padded with -0.0 (x + -0.0 == x exactly), added in order; the
    # last column adds up the weights the same way
    wide = np.full((clusters, int(slot.max()) + 1, rows.shape[1] + 1), -0.0)
    wide[label, slot, :-1] = rows[member] * weights[:, None]
    wide[label, slot, -1] = weights
    sums = np.add.accumulate(wide, axis=1)[:, -1]
    if wide.shape[1] >= 8:
        # numpy sums 8 or more weights pairwise: add each cluster's up as numpy does
        sums[:, -1] = [weights[a:b].sum() for a, b in zip(starts[:-1].tolist(),
                                                          starts[1:].tolist(), strict=True)]
    return Detections.from_rows(sums[:, :-1] / sums[:, -1:], scores[centres], k)
