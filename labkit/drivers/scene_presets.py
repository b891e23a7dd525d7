"""Scenes a student can switch the synthetic camera to, so a laptop can be taught classes.

Without a camera the kit shows the synthetic source's moving shapes and face — one scene, so a
/learn project recorded on a laptop has nothing to tell apart. Each preset here is a scene of
`labkit.drivers.scenes` (objects and cards of different colours and shapes, a hand making a
gesture, a person standing, squatting or moving) that the page can put on the camera with
`Camera.play`. The picture shifts a little sideways and its brightness changes every 0.4 s, as
a hand-held object would, so recorded samples are not copies of one frame; everything is a pure
function of the preset and the time, as the scenes are.
"""

from __future__ import annotations

import zlib
from typing import Any, Callable

import numpy as np

from labkit.drivers.scenes import render

#: preset id → (scene, parameters); the order is the page's
PRESETS: dict[str, tuple[str, dict[str, Any]]] = {
    "empty": ("empty", {}),
    "red_ball": ("balls", {"colours": ["red"]}),
    "blue_ball": ("balls", {"colours": ["blue"]}),
    "green_ball": ("balls", {"colours": ["green"]}),
    "yellow_ball": ("balls", {"colours": ["yellow"]}),
    "triangle_card": ("cards", {"shapes": ["triangle"]}),
    "square_card": ("cards", {"shapes": ["square"]}),
    "circle_card": ("cards", {"shapes": ["circle"], "colours": ["blue"]}),
    "hand_open": ("hand", {"gesture": "open"}),
    "hand_fist": ("hand", {"gesture": "fist"}),
    "hand_victory": ("hand", {"gesture": "victory"}),
    "hand_point": ("hand", {"gesture": "point"}),
    "person_standing": ("person", {"arms": 10}),
    "person_arms_up": ("person", {"arms": 170}),
    "person_squatting": ("person", {"squat": 0.8}),
    "person_jumping": ("exercise", {"exercise": "jumping_jack", "period": 2.0}),
    "people_walking": ("walk_by", {"walkers": ["right", "left", "peek_right", "right"],
                                   "loop": True}),
    "face": ("face", {}),
}
#: the synthetic camera's own moving scene (no preset played)
DEVICE = "moving"
STEP_S = 0.4
MAX_SHIFT = 30
MAX_BRIGHTNESS = 10


def preset_names() -> list[str]:
    return [DEVICE, *PRESETS]


def player(preset: str) -> Callable[[float], np.ndarray]:
    """`render(t)` for `Camera.play`; KeyError for an unknown preset."""
    kind, params = PRESETS[preset]

    def show(t: float) -> np.ndarray:
        img = render(kind, params, t)
        step = int(t / STEP_S)
        rng = np.random.default_rng([zlib.crc32(preset.encode()), step])
        shift = int(rng.integers(-MAX_SHIFT, MAX_SHIFT + 1))
        light = int(rng.integers(-MAX_BRIGHTNESS, MAX_BRIGHTNESS + 1))
        img = np.roll(img, shift, axis=1)
        return np.clip(img.astype(np.int16) + light, 0, 255).astype(np.uint8)

    return show
