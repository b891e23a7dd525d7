"""Single-shot detector post-processing shared by BlazeFace, the palm and the pose detector.

The models output, per anchor, a box offset plus keypoints and one score logit. Turning those
into detections is ours (DESIGN § 3): generate the anchors exactly as mediapipe's
SsdAnchorsCalculator does for each model's graph config, decode against them
(TensorsToDetectionsCalculator), then merge overlapping boxes with *weighted* non-maximum
suppression (a score-weighted average of the cluster, which is steadier from frame to frame
than plain NMS). A few candidates (SMALL: a handful of faces, hands or people) are worked on
as Python floats after one block of numpy arithmetic; many are vectorised with numpy. The
vectorised way costs about the same for any number of detections but makes some 50 numpy calls;
the float way adds a few tens of µs a detection and is the cheaper one up to SMALL candidates.
Both give the same bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import repeat
from operator import add, mul

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

    @cached_property
    def offsets(self) -> np.ndarray:
        """See `_offsets`; kept on the spec because hashing a dataclass for a cache lookup
        costs microseconds on every frame."""
        return _offsets(self)


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
    one index instead of two; `boxes` and `keypoints` are views of it. A handful of
    detections decoded on Python floats (see SMALL) stay Python lists until an array is
    asked for: the usual caller wants lists anyway (`as_lists`)."""

    __slots__ = ("_rows", "_scores", "_k", "_lists", "_py")

    def __init__(self, boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray) -> None:
        k = keypoints.shape[1] if keypoints.ndim == 3 else 0
        rows = np.concatenate([np.asarray(boxes, np.float64).reshape(-1, 4),
                               np.asarray(keypoints, np.float64).reshape(-1, 2 * k)], axis=1)
        self._init(rows, np.asarray(scores, np.float64).reshape(-1), k)

    def _init(self, rows: np.ndarray, scores: np.ndarray, k: int) -> None:
        self._rows, self._scores, self._k = rows, scores, k
        self._lists: tuple[list, list, list] | None = None
        self._py: tuple[list[list[float]], list[float]] | None = None

    @classmethod
    def from_rows(cls, rows: np.ndarray, scores: np.ndarray, k: int) -> "Detections":
        dets = cls.__new__(cls)
        dets._init(rows, scores, k)
        return dets

    @classmethod
    def from_lists(cls, rows: list[list[float]], scores: list[float], k: int) -> "Detections":
        """Rows (boxes then keypoints) and scores as Python floats."""
        if not scores:
            return cls.empty(k)
        dets = cls.__new__(cls)
        dets._rows = dets._scores = None
        dets._k, dets._lists, dets._py = k, None, (rows, scores)
        return dets

    @classmethod
    def empty(cls, k: int) -> "Detections":
        """No detections (one shared, read-only instance per keypoint count: the usual
        frame has nothing, and it is not worth two allocations)."""
        return _empty(k)

    @property
    def rows(self) -> np.ndarray:
        if self._rows is None:
            assert self._py is not None
            self._rows = np.array(self._py[0], np.float64).reshape(-1, 4 + 2 * self._k)
        return self._rows

    @property
    def scores(self) -> np.ndarray:
        if self._scores is None:
            assert self._py is not None
            self._scores = np.array(self._py[1], np.float64)
        return self._scores

    def py_rows(self) -> tuple[list[list[float]], list[float]]:
        """(rows, scores) as Python floats."""
        if self._py is None:
            self._py = (self._rows.tolist(), self._scores.tolist())
        return self._py

    @property
    def boxes(self) -> np.ndarray:
        return self.rows[:, :4]

    @property
    def keypoints(self) -> np.ndarray:
        return self.rows[:, 4:].reshape(-1, self._k, 2)

    def as_lists(self) -> tuple[list, list, list]:
        """(boxes, keypoints, scores) as nested lists of Python floats."""
        if self._lists is None:
            if self._py is not None:
                rows, scores = self._py
                self._lists = ([r[:4] for r in rows],
                               [[r[j:j + 2] for j in range(4, len(r), 2)] for r in rows],
                               list(scores))
            else:
                self._lists = (self.boxes.tolist(), self.keypoints.tolist(),
                               self.scores.tolist())
        return self._lists

    def __len__(self) -> int:
        return len(self._py[1]) if self._py is not None else len(self._scores)


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


#: Up to this many candidates, decode and NMS work on Python floats. Right after a model run
#: each numpy call costs several µs of cold caches — more than the arithmetic of a few boxes
#: (five faces make some 25 candidates). Measured that way, Python is the faster up to some
#: 80 candidates; 48 bounds its worst case (every candidate a cluster of its own: n²/2 IoUs).
#: Both ways give the same bits (tests/unit/vision/test_ssd.py).
SMALL = 48


def _decode_small(raw_boxes: np.ndarray, logits: np.ndarray, keep: np.ndarray, spec: SsdSpec,
                  threshold: float, lowest: float) -> Detections:
    """`decode` for a few candidates: the same IEEE operations in the same order, the block
    arithmetic in numpy, the per-box part on Python floats. The score's clip is left out
    where it cannot change a score: every kept logit is at least `lowest` (the threshold's
    logit; here above -clip), and above +clip (≥ 40) the sigmoid is 1.0 in float64 clipped
    or not."""
    k = spec.num_keypoints
    clip = spec.score_clipping
    kept = logits[keep]
    if lowest >= -clip and clip >= 40.0:
        exps = np.negative(kept, dtype=np.float64)
    else:
        exps = -np.clip(kept.astype(np.float64), -clip, clip)
    np.exp(exps, out=exps)
    rows = np.divide(raw_boxes.reshape(-1, raw_boxes.shape[-1])[keep, :4 + 2 * k],
                     spec.scale, dtype=np.float64)
    rows += spec.offsets[keep]          # centre and keypoints + anchor
    out_rows: list[list[float]] = []
    scores: list[float] = []
    for row, e in zip(rows.tolist(), exps.tolist(), strict=True):
        score = 1.0 / (1.0 + e)
        half_w, half_h = row[2] / 2, row[3] / 2
        # a NaN score or a negative (or NaN) size is no detection
        if score >= threshold and half_w >= 0 and half_h >= 0:
            row[2], row[3] = row[0] + half_w, row[1] + half_h     # xmax, ymax
            row[0] -= half_w                                      # xmin, ymin
            row[1] -= half_h
            out_rows.append(row)
            scores.append(score)
    return Detections.from_lists(out_rows, scores, k)


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, spec: SsdSpec,
           min_score: float | None = None) -> Detections:
    """Raw model outputs → detections above `min_score` (sigmoid of the clipped logit).

    The logits are compared with the threshold's logit first, so the usual empty frame
    returns after one comparison; the kept candidates are decoded in one block, so a frame
    with five faces (some 25 candidates) costs little more than a frame with one."""
    threshold = spec.min_score if min_score is None else min_score
    logits = raw_scores.reshape(-1)
    k = spec.num_keypoints
    if 0.0 < threshold < 1.0:
        lowest = math.log(threshold / (1.0 - threshold))
        keep = (logits >= lowest).nonzero()[0]
    elif threshold <= 0.0:
        lowest = -math.inf
        keep = np.arange(logits.size)
    else:
        return Detections.empty(k)
    if keep.size == 0:   # the usual frame: nothing there
        return Detections.empty(k)
    if keep.size <= SMALL:
        return _decode_small(raw_boxes, logits, keep, spec, threshold, lowest)
    clip = spec.score_clipping
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits[keep].astype(np.float64), -clip, clip)))
    width = 4 + 2 * k
    rows = raw_boxes.reshape(-1, raw_boxes.shape[-1])[keep, :width].astype(np.float64)
    rows /= spec.scale
    rows += spec.offsets[keep]         # centre and keypoints + anchor
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


def _total(weights: list[float]) -> float:
    """Σ weights as numpy adds them: one after another below 8 terms, pairwise from 8."""
    if len(weights) >= 8:
        return float(np.add.reduce(np.array(weights)))
    total = weights[0]
    for w in weights[1:]:
        total += w
    return total


def _nms_small(rows: list[list[float]], scores: list[float], threshold: float,
               max_detections: int, k: int) -> Detections:
    """`weighted_nms` for a few candidates, on Python floats: the plain cluster-at-a-time
    pass, each IoU and each weighted sum with the same IEEE operations in the same order as
    numpy's (`b if b < a else a` is numpy's minimum of two numbers that are not NaN). A NaN
    coordinate makes the area, and so the union, NaN in both ways, and a NaN union is IoU 0
    in both."""
    order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)   # stable
    members_rows = [rows[i] for i in order]
    weights = [scores[i] for i in order]
    boxes = [(r[0], r[1], r[2], r[3], (r[2] - r[0]) * (r[3] - r[1])) for r in members_rows]
    out_rows: list[list[float]] = []
    out_scores: list[float] = []
    apart = threshold >= 0.0
    remaining = list(range(len(boxes)))
    while remaining:
        best = remaining[0]
        bx0, by0, bx1, by1, area = boxes[best]
        members, rest = [], []
        for j in remaining:
            cx0, cy0, cx1, cy1, c_area = boxes[j]
            if apart and (cx0 >= bx1 or cx1 <= bx0 or cy0 >= by1 or cy1 <= by0):
                if j != best:        # no overlap: IoU 0, not above a threshold ≥ 0
                    rest.append(j)
                continue
            ix = (cx1 if cx1 < bx1 else bx1) - (cx0 if cx0 > bx0 else bx0)
            iy = (cy1 if cy1 < by1 else by1) - (cy0 if cy0 > by0 else by0)
            inter = (0.0 if 0.0 > ix else ix) * (0.0 if 0.0 > iy else iy)
            union = area + c_area - inter
            if (inter / union if union > 0 else 0.0) > threshold:
                members.append(j)
            elif j != best:
                rest.append(j)
        # a degenerate box (IoU 0 with everything, itself too) is a cluster of its own
        members = members or [best]
        sums = list(map(mul, members_rows[members[0]], repeat(weights[members[0]])))
        for j in members[1:]:
            sums = list(map(add, sums, map(mul, members_rows[j], repeat(weights[j]))))
        total = _total([weights[j] for j in members])
        out_rows.append([s / total for s in sums])
        out_scores.append(weights[best])
        if max_detections and len(out_scores) >= max_detections:
            break
        remaining = rest
    return Detections.from_lists(out_rows, out_scores, k)


def weighted_nms(dets: Detections, threshold: float, max_detections: int = 0) -> Detections:
    """mediapipe's WEIGHTED non-max suppression: each cluster (IoU > threshold with the best
    remaining box, the best included) becomes the score-weighted mean of its boxes and
    keypoints, with the best box's score.

    Vectorised: one IoU matrix, a greedy pass per cluster on bit sets, then all clusters'
    weighted sums at once. Each cluster's sums add its members in score order one after
    another (what numpy's `(x * w).sum(0)` does on that axis), so the values are exactly
    those of the one-cluster-at-a-time numpy formulation."""
    k = dets._k
    if len(dets) == 0:
        return Detections.empty(k)
    if len(dets) <= SMALL:
        return _nms_small(*dets.py_rows(), threshold, max_detections, k)
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
