"""Single-shot detector post-processing shared by BlazeFace, the palm and the pose detector.

The models output, per anchor, a box offset plus keypoints and one score logit. Turning those
into detections is ours (DESIGN § 3): generate the anchors exactly as mediapipe's
SsdAnchorsCalculator does for each model's graph config, decode against them
(TensorsToDetectionsCalculator), then merge overlapping boxes with *weighted* non-maximum
suppression (a score-weighted average of the cluster, which is steadier from frame to frame
than plain NMS). Vectorised with numpy: ~0.1 ms for 2000 anchors.
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


@dataclass
class Detections:
    """Decoded detections in normalised tensor coordinates."""

    boxes: np.ndarray       # (N, 4) xmin, ymin, xmax, ymax
    keypoints: np.ndarray   # (N, K, 2) x, y
    scores: np.ndarray      # (N,)

    def __len__(self) -> int:
        return len(self.scores)


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray, spec: SsdSpec,
           min_score: float | None = None) -> Detections:
    """Raw model outputs → detections above `min_score` (sigmoid of the clipped logit).

    Runs on every frame, so it is written for the usual case of a handful of candidates:
    numpy's per-call overhead (µs) outweighs the arithmetic, hence no np.clip/flatnonzero
    wrappers and no fancy indexing when nothing needs dropping."""
    threshold = spec.min_score if min_score is None else min_score
    logits = raw_scores.reshape(-1)
    # compare logits with the threshold's logit, so the sigmoid is only needed for the few kept
    if 0.0 < threshold < 1.0:
        keep = (logits >= math.log(threshold / (1.0 - threshold))).nonzero()[0]
    else:
        keep = np.arange(logits.size) if threshold <= 0.0 else np.zeros(0, np.int64)
    k = spec.num_keypoints
    if keep.size == 0:   # the usual frame: nothing there
        return Detections(np.zeros((0, 4)), np.zeros((0, k, 2)), np.zeros(0))
    clip = spec.score_clipping
    x = np.minimum(np.maximum(logits[keep].astype(np.float64), -clip), clip)
    scores = 1.0 / (1.0 + np.exp(-x))
    ok = scores >= threshold
    if not ok.all():
        keep, scores = keep[ok], scores[ok]
    anchor = anchors(spec)[keep]
    raw = raw_boxes.reshape(-1, raw_boxes.shape[-1])[keep, :4 + 2 * k].astype(np.float64)
    raw /= spec.scale
    half = raw[:, 2:4] / 2
    centre = raw[:, :2] + anchor
    boxes = np.empty((len(keep), 4))
    np.subtract(centre, half, out=boxes[:, :2])
    np.add(centre, half, out=boxes[:, 2:])
    kp = raw[:, 4:].reshape(-1, k, 2) + anchor[:, None, :]
    positive = half >= 0
    if positive.all():
        return Detections(boxes, kp, scores)
    valid = positive.all(axis=1)
    return Detections(boxes[valid], kp[valid], scores[valid])


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


def _iou_row(b: list[float], boxes: list[list[float]], members: list[int]) -> list[float]:
    """`iou` in plain Python floats (the same IEEE double operations, so the same values)
    for the few candidates a frame has: a numpy call costs more than the arithmetic."""
    area = (b[2] - b[0]) * (b[3] - b[1])
    out = []
    for j in members:
        c = boxes[j]
        ix = max(min(b[2], c[2]) - max(b[0], c[0]), 0.0)
        iy = max(min(b[3], c[3]) - max(b[1], c[1]), 0.0)
        inter = ix * iy
        union = area + (c[2] - c[0]) * (c[3] - c[1]) - inter
        out.append(inter / union if union > 0 else 0.0)
    return out


def _weighted_mean(boxes: list[list[float]], kps: list[list[list[float]]], scores: list[float],
                   members: list[int]) -> tuple[list[float], list[list[float]]]:
    """The score-weighted mean of a cluster's boxes and keypoints, in Python floats with the
    same operations in the same order as numpy's `(x * w).sum(0) / w.sum()` for fewer than
    8 members (numpy adds up to 7 terms one after another), so the values are identical."""
    w0 = scores[members[0]]
    total = w0
    b = [v * w0 for v in boxes[members[0]]]
    k = [[x * w0, y * w0] for x, y in kps[members[0]]]
    for j in members[1:]:
        w = scores[j]
        total += w
        row = boxes[j]
        for i in range(4):
            b[i] += row[i] * w
        for pt, (x, y) in zip(k, kps[j], strict=True):
            pt[0] += x * w
            pt[1] += y * w
    return [v / total for v in b], [[x / total, y / total] for x, y in k]


def weighted_nms(dets: Detections, threshold: float, max_detections: int = 0) -> Detections:
    """mediapipe's WEIGHTED non-max suppression: each cluster (IoU > threshold with the best
    remaining box, the best included) becomes the score-weighted mean of its boxes and
    keypoints, with the best box's score.

    Runs on Python floats (a frame has a handful of candidates, and each numpy call costs
    more than its arithmetic); every value is bit-for-bit what the all-numpy version gave."""
    kps_in = dets.keypoints
    if len(dets.scores) == 0:
        return Detections(np.zeros((0, 4)), np.zeros((0, kps_in.shape[1], 2)), np.zeros(0))
    # best first; sorted() is stable like np.argsort(-scores, kind="stable")
    all_scores = dets.scores.tolist()
    order = sorted(range(len(all_scores)), key=lambda i: -all_scores[i])
    all_boxes, all_kps = dets.boxes.tolist(), kps_in.tolist()
    box_list = [all_boxes[i] for i in order]
    kp_lists = [all_kps[i] for i in order]
    score_list = [all_scores[i] for i in order]
    out_b: list = []
    out_k: list = []
    out_s: list[float] = []
    remaining = list(range(len(order)))
    while remaining:
        best = remaining[0]
        sim = _iou_row(box_list[best], box_list, remaining)
        members = [j for j, v in zip(remaining, sim, strict=True) if v > threshold]
        if not members:  # a degenerate best box: keep it as is
            members = [best]
        if len(members) < 8:
            b, k = _weighted_mean(box_list, kp_lists, score_list, members)
        else:   # numpy's pairwise summation starts at 8 terms: let numpy add those itself
            picked = [order[j] for j in members]
            weights = dets.scores[picked][:, None]
            total = weights.sum()
            b = (dets.boxes[picked] * weights).sum(0) / total
            k = (kps_in[picked] * weights[:, :, None]).sum(0) / total
        out_b.append(b)
        out_k.append(k)
        out_s.append(score_list[best])
        remaining = [j for j, v in zip(remaining, sim, strict=True) if v <= threshold and j != best]
        if max_detections and len(out_s) >= max_detections:
            break
    return Detections(np.array(out_b), np.array(out_k), np.array(out_s))
