"""Generated camera scenes for demos and tests: pictures the real detectors really detect.

A lab's demo scenario (lab.yaml `demo:`) names a scene per stretch of time; `render(kind,
params, t)` draws it as a BGR frame. Nothing here fakes a detector's output: a "face" scene is a
drawn face BlazeFace finds, a "hand" scene a rendered hand the palm and landmark models find,
"balls" are coloured discs the colour tracker segments, "text" is printed text OCR reads.

    empty                      the background only (nobody in view)
    face    x, y, size, sway   one face (x, y: centre 0–1; size: radius as a share of height)
    faces   n, size            n faces side by side (a group)
    hand    gesture, x, y, size, rotation
                               one hand, palm to the camera, before a light wall: open,
                               fist, victory, point, three (open is found reliably; the
                               others depend on size and angle — check with the hand tracker)
    balls   colours, size      coloured balls (red, green, blue, yellow, orange, purple)
    text    text, size         printed black text on white card (ASCII; Chinese when a CJK
                               font is installed)
    person  arms, squat, size  a child in full view: arms 0 (down) – 180 (up), squat 0–1
    waste   item, x, y, size, variant
                               one piece of rubbish on the table (labkit/drivers/waste.py:
                               bottle, can, carton, banana_peel, apple_core, leaves, battery,
                               tube, pills, tissue, shard, dust); `variant` > 0 moves, turns
                               and shades it (a picture no sorter was trained on)
    exercise exercise, period, depth
                               the same child doing squats, arm raises or jumping jacks, one
                               rep per `period` seconds, `depth` of a full rep (1; 0.4 = a
                               half rep that a counter with form checks must not count);
                               pose finds the body, raised arms are followed by its tracking
                               from the standing start; `sit_up` is the child seen from the
                               side on a mat, knees bent, lying back down between reps
    walk_by walkers, seconds, gap, size, loop
                               people walking across a doorway one after another, each
                               `right` (from the left edge to the right), `left`, or
                               `peek_right`/`peek_left` (a third of the way in and back), taking
                               `seconds` (3) to cross, `gap` (1) seconds apart (negative: the
                               next sets off before the last has gone), `size` (0.7)
                               of the picture's height (`loop`: again and again); pose's
                               detector finds each one

Every scene is a pure function of its parameters and the time `t` since it began, so a demo
replays identically on any machine.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

from labkit.drivers.degrade import DEGRADATIONS, degrade, degrade_options

WIDTH, HEIGHT = 640, 480

BALL_COLOURS = {  # BGR
    "red": (40, 40, 220), "green": (60, 180, 60), "blue": (200, 90, 30),
    "yellow": (40, 220, 240), "orange": (30, 140, 250), "purple": (160, 50, 130),
}
GESTURES = ("open", "fist", "victory", "point", "three")


class SceneError(ValueError):
    """A scene name or parameter the generator does not know."""


def background(width: int = WIDTH, height: int = HEIGHT, seed: int = 0) -> np.ndarray:
    """The synthetic camera's plain room: a flat colour with a soft vertical gradient."""
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 90, size=3)
    img = np.empty((height, width, 3), np.uint8)
    img[:] = base.astype(np.uint8)
    img[:, :, 1] = np.clip(np.linspace(base[1], base[1] + 60, height), 0, 255
                           ).astype(np.uint8)[:, None]
    return img


def draw_face(img: np.ndarray, cx: int, cy: int, r: int) -> None:
    """A simple front-facing face (skin oval, eyes with brows, nose, smile)."""
    skin = (140, 170, 220)
    cv2.ellipse(img, (cx, cy), (int(r * 0.8), r), 0, 0, 360, skin, -1)
    eye_dy, eye_dx = int(r * 0.2), int(r * 0.32)
    for dx in (-eye_dx, eye_dx):
        cv2.ellipse(img, (cx + dx, cy - eye_dy), (int(r * 0.14), int(r * 0.08)), 0, 0, 360,
                    (255, 255, 255), -1)
        cv2.circle(img, (cx + dx, cy - eye_dy), int(r * 0.06), (40, 30, 20), -1)
        cv2.line(img, (cx + dx - int(r * 0.15), cy - eye_dy - int(r * 0.2)),
                 (cx + dx + int(r * 0.15), cy - eye_dy - int(r * 0.22)), (40, 40, 60), 3)
    cv2.ellipse(img, (cx, cy + int(r * 0.05)), (int(r * 0.07), int(r * 0.15)), 0, 0, 360,
                (110, 140, 200), -1)
    cv2.ellipse(img, (cx, cy + int(r * 0.45)), (int(r * 0.3), int(r * 0.1)), 0, 0, 180,
                (60, 60, 170), 4)


# ---- scenes ---------------------------------------------------------------------------------
def _empty(img: np.ndarray, t: float, p: dict[str, Any]) -> None:
    return None


def _face(img: np.ndarray, t: float, p: dict[str, Any]) -> None:
    h, w = img.shape[:2]
    sway = float(p.get("sway", 0.05)) * math.sin(t * 1.3)
    cx = int(w * (float(p.get("x", 0.5)) + sway))
    cy = int(h * float(p.get("y", 0.42)))
    draw_face(img, cx, cy, int(h * float(p.get("size", 0.2))))


def _faces(img: np.ndarray, t: float, p: dict[str, Any]) -> None:
    h, w = img.shape[:2]
    n = int(p.get("n", 2))
    if not 1 <= n <= 4:
        raise SceneError("faces: n must be 1 to 4")
    size = float(p.get("size", 0.2 if n == 1 else 0.16 if n == 2 else 0.12))
    for i in range(n):
        cx = int(w * (i + 0.5) / n)
        draw_face(img, cx, int(h * 0.42), int(h * size))


def _balls(img: np.ndarray, t: float, p: dict[str, Any]) -> None:
    h, w = img.shape[:2]
    colours = p.get("colours", p.get("colour", ["red"]))
    if isinstance(colours, str):
        colours = [colours]
    r = int(h * float(p.get("size", 0.09)))
    for i, name in enumerate(colours):
        if name not in BALL_COLOURS:
            raise SceneError(f"balls: unknown colour {name!r} ({', '.join(BALL_COLOURS)})")
        cx = int(w * (i + 0.5) / len(colours))
        cy = int(h * 0.6 + h * 0.03 * math.sin(t * 2 + i))
        cv2.circle(img, (cx, cy), r, BALL_COLOURS[name], -1, cv2.LINE_AA)


CARD_SHAPES = ("triangle", "square", "circle", "rectangle")


def _cards(img: np.ndarray, t: float, p: dict[str, Any]) -> None:
    """Printed cards: one flat shape per card, side by side (shape finder, /learn images)."""
    h, w = img.shape[:2]
    shapes = p.get("shapes", p.get("shape", ["square"]))
    if isinstance(shapes, str):
        shapes = [shapes]
    # yellow by default: in grey (where edges are found) it stands out from the background;
    # blue and red are about as grey as the background, which is worth showing too
    colours = p.get("colours", p.get("colour", ["yellow"]))
    if isinstance(colours, str):
        colours = [colours]
    r = int(h * float(p.get("size", 0.14)))
    for i, shape in enumerate(shapes):
        name = colours[i % len(colours)]
        if shape not in CARD_SHAPES:
            raise SceneError(f"cards: unknown shape {shape!r} ({', '.join(CARD_SHAPES)})")
        if name not in BALL_COLOURS:
            raise SceneError(f"cards: unknown colour {name!r} ({', '.join(BALL_COLOURS)})")
        cx, cy = int(w * (i + 0.5) / len(shapes)), int(h * 0.55)
        colour = BALL_COLOURS[name]
        if shape == "circle":
            cv2.circle(img, (cx, cy), r, colour, -1, cv2.LINE_AA)
            continue
        if shape == "triangle":
            pts = [(cx, cy - r), (cx - int(r * 0.95), cy + int(r * 0.7)),
                   (cx + int(r * 0.95), cy + int(r * 0.7))]
        else:
            half_w = r
            half_h = r if shape == "square" else r // 2
            pts = [(cx - half_w, cy - half_h), (cx + half_w, cy - half_h),
                   (cx + half_w, cy + half_h), (cx - half_w, cy + half_h)]
        cv2.fillPoly(img, [np.array(pts, np.int32)], colour, cv2.LINE_AA)


_CJK_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
              "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc")


def _text(img: np.ndarray, t: float, p: dict[str, Any]) -> None:
    h, w = img.shape[:2]
    words = str(p.get("text", "HELLO"))
    size = float(p.get("size", 1.0))
    x0, y0, x1, y1 = int(w * 0.1), int(h * 0.3), int(w * 0.9), int(h * 0.7)
    cv2.rectangle(img, (x0, y0), (x1, y1), (250, 250, 250), -1)
    if words.isascii():
        scale = 2.0 * size
        (tw, th), _ = cv2.getTextSize(words, cv2.FONT_HERSHEY_SIMPLEX, scale, 4)
        org = ((x0 + x1 - tw) // 2, (y0 + y1 + th) // 2)
        cv2.putText(img, words, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (20, 20, 20), 4,
                    cv2.LINE_AA)
        return
    font = next((f for f in _CJK_FONTS if Path(f).is_file()), None)
    if font is None:
        raise SceneError("text: Chinese text needs a CJK font (apt install fonts-wqy-microhei)")
    from PIL import Image, ImageDraw, ImageFont

    pil = Image.fromarray(img[:, :, ::-1])
    draw = ImageDraw.Draw(pil)
    face = ImageFont.truetype(font, int(64 * size))
    box = draw.textbbox((0, 0), words, font=face)
    draw.text(((x0 + x1 - (box[2] - box[0])) // 2, (y0 + y1 - (box[3] - box[1])) // 2), words,
              fill=(20, 20, 20), font=face)
    img[:] = np.asarray(pil)[:, :, ::-1]


# -- a rendered hand (signed-distance drawing in numpy: finger bones are capsules) ------------
_SKIN = np.array([146.0, 176.0, 226.0])  # BGR
_FINGERS = {
    "thumb": ((-0.50, 0.25), -55.0, (0.42, 0.36, 0.30), 0.15),
    "index": ((-0.33, -0.52), -8.0, (0.50, 0.30, 0.24), 0.12),
    "middle": ((-0.06, -0.58), 0.0, (0.56, 0.34, 0.25), 0.125),
    "ring": ((0.20, -0.53), 7.0, (0.52, 0.31, 0.24), 0.12),
    "pinky": ((0.43, -0.42), 15.0, (0.40, 0.24, 0.20), 0.105),
}
_EXTENDED = {"open": ("thumb", "index", "middle", "ring", "pinky"), "victory": ("index", "middle"),
             "point": ("index",), "fist": (), "three": ("index", "middle", "ring")}


def _capsule(px: np.ndarray, py: np.ndarray, a: tuple[float, float], b: tuple[float, float],
             r: float) -> np.ndarray:
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / max(dx * dx + dy * dy, 1e-9), 0.0, 1.0)
    return np.hypot(px - (ax + t * dx), py - (ay + t * dy)) - r


def _chain(base: tuple[float, float], angle: float, bones: tuple[float, ...], curl: float
           ) -> list[tuple[float, float]]:
    pts = [base]
    x, y = base
    a = math.radians(angle)
    for i, length in enumerate(bones):
        x += length * math.sin(a)
        y -= length * math.cos(a)
        pts.append((x, y))
        a += math.radians(curl) * (1.0 if i else 0.8)
    return pts


def draw_hand(img: np.ndarray, gesture: str, cx: float, cy: float, scale: float,
              rotation: float = 0.0) -> None:
    """Paint one hand (palm facing the camera, fingers up) showing `gesture` onto `img`."""
    if gesture not in _EXTENDED:
        raise SceneError(f"hand: unknown gesture {gesture!r} ({', '.join(GESTURES)})")
    h, w = img.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    rot = math.radians(rotation)
    ux = ((xs - cx) * math.cos(rot) + (ys - cy) * math.sin(rot)) / scale
    uy = (-(xs - cx) * math.sin(rot) + (ys - cy) * math.cos(rot)) / scale
    dist = np.minimum.reduce([
        _capsule(ux, uy, (-0.30, -0.35), (0.28, -0.30), 0.30),
        _capsule(ux, uy, (-0.28, 0.25), (0.22, 0.28), 0.33),
        _capsule(ux, uy, (-0.05, -0.3), (0.0, 0.55), 0.38),
        _capsule(ux, uy, (0.0, 0.6), (0.0, 1.0), 0.30),
    ])
    extended = _EXTENDED[gesture]
    for name, (base, angle, bones, radius) in _FINGERS.items():
        if name in extended:
            pts = _chain(base, angle, bones, 4.0 if name != "thumb" else 8.0)
        elif name == "thumb":
            pts = _chain(base, 50.0, bones[:2], 70.0)
        else:
            pts = _chain(base, angle + 180.0, (bones[0] * 0.45, bones[1] * 0.4), 40.0)
            pts = [(x, y - 0.05) for x, y in pts]
        for i in range(len(pts) - 1):
            dist = np.minimum(dist, _capsule(ux, uy, pts[i], pts[i + 1], radius * (1 - 0.08 * i)))
    inside = np.clip(-dist * scale / 1.5, 0.0, 1.0)
    shade = 0.62 + 0.38 * np.sqrt(np.clip(-dist / 0.12, 0.0, 1.0))
    colour = _SKIN[None, None, :] * shade[..., None]
    out = colour * inside[..., None] + img.astype(np.float64) * (1 - inside[..., None])
    img[:] = np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _hand(img: np.ndarray, t: float, p: dict[str, Any]) -> None:
    h, w = img.shape[:2]
    img[:] = (240, 236, 232)   # held in front of a light wall: the palm model's easy case
    draw_hand(img, str(p.get("gesture", "open")), w * float(p.get("x", 0.5)),
              h * float(p.get("y", 0.62)), h * float(p.get("size", 0.22)),
              float(p.get("rotation", 0.0)))


def _waste(img: np.ndarray, t: float, p: dict[str, Any]) -> None:
    from labkit.drivers.waste import draw_item

    variant = p.get("variant", 0)
    if not isinstance(variant, int) or isinstance(variant, bool) or variant < 0:
        raise SceneError("waste: variant must be a whole number from 0")
    draw_item(img, str(p.get("item", "bottle")), x=float(p.get("x", 0.5)),
              y=float(p.get("y", 0.55)), size=float(p.get("size", 0.2)), variant=variant)


#: scenes that do not move: drawn once per parameter set (a hand takes ~0.3 s to paint)
STATIC = {"empty", "faces", "hand", "text", "person", "cards", "waste"}

WALL = (200, 205, 210)   # BGR: the light wall people stand before


def draw_person(img: np.ndarray, arms: float = 10.0, squat: float = 0.0,
                scale: float = 1.0, spread: float = 0.0, *, x: float = 0.5,
                wall: bool = True) -> None:
    """A child facing the camera, whole body in view, before a light wall: `arms` is the
    arms' angle from hanging down (0) to straight up (180), `squat` how far down (0–1, the
    knees going out to the sides as in a front view), `spread` how far apart the feet are
    (0 together, 1 a jumping jack's wide stance: ankles 2.4 shoulder widths apart). `x` is
    the body's centre as a share of the width; `wall=False` draws over what is there (a
    second person in the same picture)."""
    h, w = img.shape[:2]
    if wall:
        img[:] = WALL
    s = scale * h / 480
    cx = int(round(w * x))
    head_r, leg = int(30 * s), int(120 * s)
    ankle_y = int(h - 15 * s)
    hip_y = ankle_y - 2 * leg + int(min(max(squat, 0.0), 1.0) * leg * 0.9)
    neck_y = hip_y - int(140 * s)
    shirt, skin, trousers = (60, 90, 200), (140, 170, 220), (90, 60, 40)
    for side in (-1, 1):
        hip = (cx + side * int(28 * s), hip_y)
        ankle = (cx + side * int((45 + 75 * min(max(spread, 0.0), 1.0)) * s), ankle_y)
        half = math.dist(hip, ankle) / 2
        out = math.sqrt(max(leg * leg - half * half, 0.0))
        knee = (int((hip[0] + ankle[0]) / 2 + side * out), int((hip[1] + ankle[1]) / 2))
        cv2.line(img, hip, knee, trousers, max(1, int(30 * s)))
        cv2.line(img, knee, ankle, trousers, max(1, int(26 * s)))
    cv2.rectangle(img, (cx - int(50 * s), neck_y), (cx + int(50 * s), hip_y + 8), shirt, -1)
    a = math.radians(arms)
    for side in (-1, 1):
        sh = (cx + side * int(50 * s), neck_y + int(12 * s))
        dx, dy = side * math.sin(a), math.cos(a)
        el = (int(sh[0] + dx * 75 * s), int(sh[1] + dy * 75 * s))
        wr = (int(sh[0] + dx * 150 * s), int(sh[1] + dy * 150 * s))
        cv2.line(img, sh, el, shirt, max(1, int(24 * s)))
        cv2.line(img, el, wr, skin, max(1, int(20 * s)))
        cv2.circle(img, wr, max(1, int(12 * s)), skin, -1)
    cv2.line(img, (cx, neck_y - int(12 * s)), (cx, neck_y), skin, max(1, int(22 * s)))
    draw_face(img, cx, neck_y - int(12 * s) - head_r, head_r)


def draw_sit_up(img: np.ndarray, trunk: float = 5.0, scale: float = 1.0) -> None:
    """The child seen from the side on a mat, knees bent and feet flat, arms reaching for the
    knees: `trunk` is the hip→shoulder line's angle above the floor (about 5 lying, 85 sat
    up). The face is drawn turned with the trunk: the pose detector starts from a face."""
    h, w = img.shape[:2]
    img[:] = (200, 205, 210)
    s = scale * h / 480
    floor = int(h - 40 * s)
    cv2.rectangle(img, (0, floor), (w, h), (120, 140, 150), -1)
    shirt, skin, trousers = (60, 90, 200), (140, 170, 220), (90, 60, 40)
    hip = np.array([w * 0.58, floor - 24 * s])
    thigh, shin, body = 115 * s, 110 * s, 150 * s
    knee = hip + thigh * np.array([math.cos(math.radians(50)), -math.sin(math.radians(50))])
    drop = (floor - 12 * s) - knee[1]
    ankle = knee + np.array([math.sqrt(max(shin * shin - drop * drop, 0.0)), drop])

    def at(point: np.ndarray) -> tuple[int, int]:
        return int(point[0]), int(point[1])

    for offset, shade in ((-6.0, 0.8), (0.0, 1.0)):     # the far leg, then the near one
        o = np.array([offset * s, 0.0])
        colour = tuple(int(c * shade) for c in trousers)
        cv2.line(img, at(hip + o), at(knee + o), colour, max(1, int(30 * s)))
        cv2.line(img, at(knee + o), at(ankle + o), colour, max(1, int(26 * s)))
        cv2.line(img, at(ankle + o), at(ankle + o + np.array([28 * s, 0.0])), (50, 50, 50),
                 max(1, int(14 * s)))
    a = math.radians(trunk)
    up = np.array([-math.cos(a), -math.sin(a)])
    neck, shoulder = hip + body * up, hip + (body - 12 * s) * up
    cv2.line(img, at(hip), at(neck), shirt, max(1, int(70 * s)))
    reach = knee + np.array([0.0, -10 * s]) - shoulder
    reach /= max(float(np.linalg.norm(reach)), 1e-6)
    elbow, wrist = shoulder + 75 * s * reach, shoulder + 150 * s * reach
    cv2.line(img, at(shoulder), at(elbow), tuple(int(c * 0.85) for c in shirt),
             max(1, int(24 * s)))
    cv2.line(img, at(elbow), at(wrist), skin, max(1, int(20 * s)))
    cv2.circle(img, at(wrist), max(1, int(12 * s)), skin, -1)
    cv2.line(img, at(neck), at(neck + 14 * s * up), skin, max(1, int(22 * s)))
    r = max(2, int(30 * s))
    head = neck + (r + 10 * s) * up
    side = 4 * r
    patch = np.zeros((side, side, 3), np.uint8)
    mask = np.zeros((side, side), np.uint8)
    draw_face(patch, 2 * r, 2 * r, r)
    cv2.ellipse(mask, (2 * r, 2 * r), (int(r * 0.8), r), 0, 0, 360, 255, -1)
    turn = cv2.getRotationMatrix2D((2 * r, 2 * r), 90.0 - trunk, 1.0)
    patch = cv2.warpAffine(patch, turn, (side, side))
    mask = cv2.warpAffine(mask, turn, (side, side))
    x0, y0 = int(head[0]) - 2 * r, int(head[1]) - 2 * r
    xs, ys = max(0, -x0), max(0, -y0)
    region = img[y0 + ys:y0 + side, x0 + xs:x0 + side]
    inside = mask[ys:ys + region.shape[0], xs:xs + region.shape[1]] > 127
    region[inside] = patch[ys:ys + region.shape[0], xs:xs + region.shape[1]][inside]


def _person(img: np.ndarray, t: float, p: dict[str, Any]) -> None:
    draw_person(img, float(p.get("arms", 10.0)), float(p.get("squat", 0.0)),
                float(p.get("size", 1.0)))


EXERCISE_MOVES = ("squat", "arm_raise", "jumping_jack", "sit_up")


def _exercise(img: np.ndarray, t: float, p: dict[str, Any]) -> None:
    move = str(p.get("exercise", "squat"))
    if move not in EXERCISE_MOVES:
        raise SceneError(f"exercise: unknown exercise {move!r} ({', '.join(EXERCISE_MOVES)})")
    period = float(p.get("period", 2.0))
    if not 0.5 <= period <= 30:
        raise SceneError("exercise: period must be 0.5 to 30 seconds per rep")
    depth = float(p.get("depth", 1.0))
    if not 0.1 <= depth <= 1.0:
        raise SceneError("exercise: depth must be 0.1 to 1 (1 = a full rep)")
    # 0 at rest → depth → 0: one rep (depth < 1: a half rep, for form checks)
    phase = depth * (1 - math.cos(2 * math.pi * t / period)) / 2
    if move == "squat":
        draw_person(img, 10.0, 0.9 * phase, float(p.get("size", 1.0)))
    elif move == "sit_up":
        draw_sit_up(img, 5.0 + 80.0 * phase, float(p.get("size", 1.0)))
    elif move == "jumping_jack":
        draw_person(img, 10.0 + 150.0 * phase, 0.0, float(p.get("size", 1.0)), spread=phase)
    else:
        draw_person(img, 10.0 + 165.0 * phase, 0.0, float(p.get("size", 1.0)))


#: right/left: across the whole picture; peek_right/peek_left: in from that side's far edge
#: to a third of the way, then back out (someone who looks in and turns round)
WALK_DIRECTIONS = ("right", "left", "peek_right", "peek_left")
PEEK_TURN = 0.33


def walk_by_positions(t: float, walkers: list[str], seconds: float, gap: float
                      ) -> list[tuple[str, float, float]]:
    """Who is walking at `t` in a `walk_by` scene: (direction, x as a share of the width,
    the stride phase in radians) for each walker in the picture (none between two). Each
    walker crosses from just outside one edge (x −0.15) to just outside the other (1.15) in
    `seconds` (a peek goes to PEEK_TURN and back in the same time); walker i sets off at
    i × (seconds + gap), so a negative gap puts two in the doorway at once."""
    slot = seconds + gap
    out = []
    for i, direction in enumerate(walkers):
        into = t - i * slot
        if not 0.0 <= into < seconds:
            continue
        share = into / seconds
        if direction.startswith("peek_"):
            x = -0.15 + (PEEK_TURN + 0.15) * (1 - abs(2 * share - 1))
        else:
            x = -0.15 + 1.3 * share
        if direction.endswith("left"):
            x = 1.0 - x
        out.append((direction, x, 2 * math.pi * into / 0.8))
    return out


def walk_by_length(walkers: list[str], seconds: float, gap: float) -> float:
    """Seconds from the first walker setting off to the doorway being empty after the last
    (and the gap after it)."""
    return (len(walkers) - 1) * (seconds + gap) + seconds + max(gap, 0.0)


def _walk_by(img: np.ndarray, t: float, p: dict[str, Any]) -> None:
    walkers = p.get("walkers", ["right", "left"])
    if isinstance(walkers, str):
        walkers = [walkers]
    if not isinstance(walkers, list) or not 1 <= len(walkers) <= 20 or any(
            w not in WALK_DIRECTIONS for w in walkers):
        raise SceneError("walk_by: walkers must be a list of 1 to 20 directions "
                         f"({', '.join(WALK_DIRECTIONS)})")
    seconds = float(p.get("seconds", 3.0))
    if not 1.0 <= seconds <= 30.0:
        raise SceneError("walk_by: seconds (to cross the picture) must be 1 to 30")
    gap = float(p.get("gap", 1.0))
    if not 0.5 - seconds <= gap <= 30.0:
        raise SceneError("walk_by: gap (seconds between two walkers) must be from 0.5 − "
                         "seconds (two in the doorway at once) to 30")
    size = float(p.get("size", 0.7))
    if not 0.4 <= size <= 1.0:
        raise SceneError("walk_by: size must be 0.4 to 1 (1 = the full picture's height)")
    img[:] = WALL
    if p.get("loop"):     # the walkers again and again (a scene preset that plays for long)
        t %= walk_by_length(walkers, seconds, gap)
    for _, x, stride in walk_by_positions(t, walkers, seconds, gap):
        draw_person(img, 10.0 + 8.0 * math.sin(stride), 0.0, size,
                    spread=0.35 * abs(math.sin(stride)), x=x, wall=False)


SCENES: dict[str, Callable[[np.ndarray, float, dict[str, Any]], None]] = {
    "empty": _empty, "face": _face, "faces": _faces, "hand": _hand, "balls": _balls,
    "text": _text, "person": _person, "exercise": _exercise, "cards": _cards,
    "waste": _waste, "walk_by": _walk_by,
}


def check_scene(kind: str, params: dict[str, Any]) -> None:
    """Raise SceneError if `kind`/`params` cannot be drawn (renders one small frame)."""
    if kind not in SCENES:
        raise SceneError(f"unknown scene {kind!r}; the scenes are: {', '.join(SCENES)}")
    render(kind, params, 0.0, 160, 120)


def render(kind: str, params: dict[str, Any], t: float, width: int = WIDTH,
           height: int = HEIGHT) -> np.ndarray:
    """Scene `kind` with `params`, `t` seconds after it began, as a BGR frame."""
    if kind in STATIC:
        key = (kind, repr(sorted(params.items())), width, height)
        cached = _cache.get(key)
        if cached is None:
            cached = _render(kind, params, 0.0, width, height)
            if len(_cache) > 32:
                _cache.clear()
            _cache[key] = cached
        return cached.copy()
    return _render(kind, params, t, width, height)


_cache: dict[tuple[Any, ...], np.ndarray] = {}


def _render(kind: str, params: dict[str, Any], t: float, width: int, height: int) -> np.ndarray:
    draw = SCENES.get(kind)
    if draw is None:
        raise SceneError(f"unknown scene {kind!r}; the scenes are: {', '.join(SCENES)}")
    img = background(width, height)
    try:
        worse = degrade_options(params)
        draw(img, t, {k: v for k, v in params.items() if k not in DEGRADATIONS})
    except (TypeError, ValueError) as exc:
        if isinstance(exc, SceneError):
            raise
        raise SceneError(f"{kind}: {exc}") from None
    return degrade(img, **worse) if worse else img
