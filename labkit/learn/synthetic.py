"""Generated practice data: pictures of shapes on busy backgrounds, pose/hand landmark sets.

Why: tests and benchmarks need a dataset that is hard enough to be honest (position, size,
colour and background all vary, so only the shape tells the classes apart) yet made on the
spot, with no photo of a child anywhere. Teachers can also use it to demo training.
"""

from __future__ import annotations

import numpy as np

SHAPES = ("circle", "square", "triangle", "cross")


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    import cv2

    coarse = rng.integers(0, 256, (int(rng.integers(2, 9)), int(rng.integers(2, 9)), 3),
                          dtype=np.uint8)
    img = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32)
    img += rng.normal(0, rng.uniform(5, 30), img.shape)
    for _ in range(int(rng.integers(0, 6))):          # clutter: thin random lines
        p1 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        p2 = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.line(img, p1, p2, tuple(float(c) for c in rng.integers(0, 256, 3)),
                 int(rng.integers(1, 3)))
    return np.clip(img, 0, 255).astype(np.uint8)


def shape_image(shape: str, rng: np.random.Generator, size: tuple[int, int] = (240, 320)
                ) -> np.ndarray:
    """One BGR picture of `shape` (see SHAPES) at a random place, size, angle and colour."""
    import cv2

    h, w = size
    img = _background(rng, h, w)
    r = int(rng.uniform(0.13, 0.3) * min(h, w))
    cx = int(rng.uniform(r + 2, w - r - 2))
    cy = int(rng.uniform(r + 2, h - r - 2))
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    angle = rng.uniform(0, 2 * np.pi)

    def poly(n: int, radius: float, start: float) -> np.ndarray:
        t = start + np.arange(n) * 2 * np.pi / n
        return np.stack([cx + radius * np.cos(t), cy + radius * np.sin(t)], 1).astype(np.int32)

    if shape == "circle":
        cv2.circle(img, (cx, cy), r, colour, -1, cv2.LINE_AA)
    elif shape == "square":
        cv2.fillPoly(img, [poly(4, r * 1.15, angle)], colour, cv2.LINE_AA)
    elif shape == "triangle":
        cv2.fillPoly(img, [poly(3, r * 1.2, angle)], colour, cv2.LINE_AA)
    elif shape == "cross":
        arm = max(3, r // 3)
        rot = cv2.getRotationMatrix2D((float(cx), float(cy)), float(np.degrees(angle)), 1.0)
        mask = np.zeros((h, w), np.uint8)
        cv2.rectangle(mask, (cx - r, cy - arm), (cx + r, cy + arm), 255, -1)
        cv2.rectangle(mask, (cx - arm, cy - r), (cx + arm, cy + r), 255, -1)
        mask = cv2.warpAffine(mask, rot, (w, h))
        img[mask > 127] = colour
    else:
        raise ValueError(f"unknown shape {shape!r}")
    # a little camera blur and sensor noise on top of everything
    img = cv2.GaussianBlur(img, (0, 0), float(rng.uniform(0.3, 1.2)))
    noise = rng.normal(0, rng.uniform(2, 10), img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def shapes_dataset(n_per_class: int = 50, classes: tuple[str, ...] = SHAPES, seed: int = 0,
                   size: tuple[int, int] = (240, 320)) -> tuple[list[np.ndarray], list[str]]:
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(n_per_class):
        for shape in classes:
            images.append(shape_image(shape, rng, size))
            labels.append(shape)
    return images, labels


# ---------------------------------------------------------------------------------------------
# landmarks
# ---------------------------------------------------------------------------------------------

# A neutral standing body in image coordinates (x right, y down, units of torso length):
# MediaPipe BlazePose indices 0–32.
_POSE_STAND = {
    0: (0.0, -1.45), 1: (-0.05, -1.5), 2: (-0.08, -1.5), 3: (-0.11, -1.5), 4: (0.05, -1.5),
    5: (0.08, -1.5), 6: (0.11, -1.5), 7: (-0.16, -1.46), 8: (0.16, -1.46), 9: (-0.05, -1.36),
    10: (0.05, -1.36), 11: (-0.3, -1.0), 12: (0.3, -1.0), 13: (-0.38, -0.55), 14: (0.38, -0.55),
    15: (-0.4, -0.1), 16: (0.4, -0.1), 17: (-0.42, 0.0), 18: (0.42, 0.0), 19: (-0.4, 0.02),
    20: (0.4, 0.02), 21: (-0.38, -0.02), 22: (0.38, -0.02), 23: (-0.17, 0.0), 24: (0.17, 0.0),
    25: (-0.18, 0.65), 26: (0.18, 0.65), 27: (-0.19, 1.3), 28: (0.19, 1.3), 29: (-0.2, 1.36),
    30: (0.2, 1.36), 31: (-0.14, 1.4), 32: (0.14, 1.4),
}


def pose_landmarks(pose: str, rng: np.random.Generator) -> np.ndarray:
    """33×4 (x, y, z, visibility) in normalised image coordinates for a named pose.

    Poses: "stand" (arms down), "arms_up", "t_pose"; placed at a random spot and size in the
    frame with jitter on every joint, like a tracker's output on different children.
    """
    pts = np.array([_POSE_STAND[i] for i in range(33)], dtype=np.float64)
    arm = {"stand": None, "arms_up": (0.0, -1.0), "t_pose": (1.0, 0.0)}[pose]
    if arm is not None:
        for side, (sh, el, wr, hand) in ((-1, (11, 13, 15, (17, 19, 21))),
                                         (1, (12, 14, 16, (18, 20, 22)))):
            direction = np.array([arm[0] * side, arm[1]])
            pts[el] = pts[sh] + 0.45 * direction
            pts[wr] = pts[sh] + 0.9 * direction
            for k in hand:
                pts[k] = pts[sh] + 1.0 * direction + rng.normal(0, 0.02, 2)
    pts += rng.normal(0, 0.04, pts.shape)                 # each child stands differently
    angle = rng.normal(0, 0.08)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    pts = pts @ rot.T
    scale = rng.uniform(0.12, 0.25)
    centre = np.array([rng.uniform(0.3, 0.7), rng.uniform(0.45, 0.6)])
    xy = pts * scale + centre
    z = rng.normal(0, 0.02, (33, 1))
    vis = rng.uniform(0.8, 1.0, (33, 1))
    return np.concatenate([xy, z, vis], axis=1)


_HAND_OPEN = np.array([
    (0, 0), (0.25, -0.2), (0.45, -0.4), (0.6, -0.55), (0.75, -0.7),     # thumb
    (0.2, -0.9), (0.25, -1.3), (0.27, -1.55), (0.29, -1.75),            # index
    (0.0, -0.95), (0.0, -1.4), (0.0, -1.68), (0.0, -1.9),               # middle
    (-0.2, -0.9), (-0.23, -1.3), (-0.25, -1.55), (-0.27, -1.75),        # ring
    (-0.38, -0.8), (-0.45, -1.1), (-0.5, -1.3), (-0.53, -1.45),         # little
])


def hand_landmarks(gesture: str, rng: np.random.Generator) -> np.ndarray:
    """21×3 hand landmarks for "open" (palm) or "fist", placed and jittered randomly."""
    pts = _HAND_OPEN.copy()
    if gesture == "fist":
        for base in (5, 9, 13, 17):                       # fingertips fold onto the palm
            knuckle = pts[base]
            pts[base + 1] = knuckle + (0.0, 0.15)
            pts[base + 2] = knuckle + (0.0, 0.35)
            pts[base + 3] = knuckle + (0.0, 0.45)
        pts[3] = (0.3, -0.6)
        pts[4] = (0.1, -0.7)
    elif gesture != "open":
        raise ValueError(gesture)
    pts = pts + rng.normal(0, 0.05, pts.shape)
    angle = rng.normal(0, 0.25)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    pts = pts @ rot.T * rng.uniform(0.05, 0.15) + rng.uniform(0.3, 0.7, 2)
    return np.concatenate([pts, rng.normal(0, 0.01, (21, 1))], axis=1)
