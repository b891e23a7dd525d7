"""Vision tasks for student programs and labs, each a gpiozero-style device (DESIGN § 5).

    from gpiozero import LED
    from labkit.drivers import Camera
    from labkit.vision import FaceDetector
    LED(17).source = FaceDetector(Camera()).present.values

Classes are imported on first use, so `import labkit.vision` stays cheap (no model, no
runtime is loaded until a detector is built).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FaceDetector": "labkit.vision.faces",
    "HandTracker": "labkit.vision.hands",
    "PoseTracker": "labkit.vision.pose",
    "RepCounter": "labkit.vision.reps",
    "PeopleDetector": "labkit.vision.people",
    "DoorCounter": "labkit.vision.linecount",
    "Segmenter": "labkit.vision.segmentation",
    "EmotionClassifier": "labkit.vision.emotion",
    "TextReader": "labkit.vision.ocr",
    "ColourTracker": "labkit.vision.colour",
    "ShapeFinder": "labkit.vision.shapes",
    "FrameError": "labkit.vision.frames",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'labkit.vision' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
