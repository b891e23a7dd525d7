"""What the code page's blocks need from the kit: their labels in the page's language and the
kit's wiring (pin numbers, sensor names), rendered into the page as JSON.

The blocks themselves and their Python generators are `static/js/code_blocks.js`; the text on
them is here, as message ids of the `code_blocks` catalogue, so the blocks speak the page's
language like every other label. `%1`, `%2` are Blockly's places for a block's fields.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _

from labkit.audio_ai.vocabulary import FIRST_WORDS
from labkit.drivers.wiring import Wiring

LABELS = {
    # toolbox categories
    "cat_camera": _("Camera"), "cat_outputs": _("Outputs"), "cat_sensors": _("Sensors"),
    "cat_kit": _("Speak and wait"), "cat_logic": _("Logic"), "cat_loops": _("Loops"),
    "cat_math": _("Math"), "cat_text": _("Text"), "cat_variables": _("Variables"),
    # camera and vision tasks
    "faces_count": _("number of faces"),
    "faces_present": _("a face is in view"),
    "detect_count": _("number of %1 in view"),
    "hand_gesture": _("a hand shows %1"),
    "emotion_is": _("a face looks %1"),
    "colour_seen": _("something %1 is in view"),
    "shape_seen": _("a %1 is in view"),
    "text_read": _("the text the camera reads"),
    "predict_is": _("my teachable model %1 says %2"),
    "default_project": _("my model"), "default_class": _("class 1"),
    # outputs
    "led": _("LED %1"), "rgb": _("RGB LED colour %1"), "servo": _("turn the servo to %1 degrees"),
    "buzzer": _("buzzer %1"), "fan": _("fan %1"), "pump": _("water pump %1"),
    # sensors
    "button_pressed": _("the button is pressed"), "motion": _("movement is detected"),
    "sensor": _("%1 reading"), "sound_level": _("loudness (dB)"),
    "heard": _("heard the command word %1"),
    # speak and wait
    "say": _("say %1"), "wait": _("wait %1 seconds"), "forever": _("repeat forever %1"),
    # dropdown choices
    "on": _("on"), "off": _("off"), "toggle": _("switch over"), "beep": _("beep once"),
    "task_face": _("faces"), "task_hands": _("hands"), "task_pose": _("people"),
    "task_shapes": _("shapes"), "task_text": _("lines of text"),
    "open_palm": _("an open palm"), "fist": _("a fist"), "point": _("a pointing finger"),
    "victory": _("a victory sign"), "thumbs_up": _("a thumbs-up"), "ok": _("an OK sign"),
    "angry": _("angry"), "disgust": _("disgusted"), "fear": _("afraid"), "happy": _("happy"),
    "sad": _("sad"), "surprise": _("surprised"), "neutral": _("calm"),
    "red": _("red"), "orange": _("orange"), "yellow": _("yellow"), "green": _("green"),
    "blue": _("blue"), "purple": _("purple"), "white": _("white"), "black": _("off (dark)"),
    "triangle": _("triangle"), "square": _("square"), "rectangle": _("rectangle"),
    "pentagon": _("pentagon"), "hexagon": _("hexagon"), "circle": _("circle"),
    "light": _("light sensor (0–1)"), "soil": _("soil moisture (0–1)"),
    "temperature": _("temperature (°C)"), "distance": _("distance (m)"),
    # hints shown when a pointer rests on a block
    "tip_camera": _("Asks the kit's camera what it sees now."),
    "tip_output": _("Drives one of the kit's outputs; the bench shows it."),
    "tip_sensor": _("Reads one of the kit's sensors now."),
    "tip_heard": _("Hears one of the command words taught on the sound page (since the last "
                   "time it was asked)."),
    "tip_predict": _("Type the name of a model you taught on the teach page, and one of its "
                     "classes."),
    # the page
    "default_say": _("Hello"),
}

# the devices blocks can drive or read, by their name in the kit's wiring
OUTPUTS = ("led", "rgb", "servo", "buzzer", "fan", "pump")
SENSORS = ("light", "soil", "temperature", "distance")
DIGITAL_INPUTS = ("button", "motion")


def blocks_config(wiring: Wiring, media: str = "") -> dict[str, Any]:
    """The page's block configuration: labels (in the request's language) and the wiring the
    generated Python uses (`LED(17)` on the kit's LED pin), so a school's own wiring.yaml
    makes programs for its own kits."""
    devices: dict[str, Any] = {}
    for name in OUTPUTS + DIGITAL_INPUTS:
        if name in wiring.devices:
            spec = wiring.devices[name]
            devices[name] = {"type": spec.type, "pins": dict(spec.pins),
                             **{k: v for k, v in spec.options.items()
                                if k in ("min_angle", "max_angle")}}
    sensors = [name for name in SENSORS if name in wiring.devices]
    # the command-word block starts with the first word a class teaches (the kit's own list)
    return {"labels": {key: str(text) for key, text in LABELS.items()},
            "devices": devices, "sensors": sensors, "media": media,
            "default_word": FIRST_WORDS[0]}
