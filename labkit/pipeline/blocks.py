"""The block vocabulary of a pipeline: what each block is, takes, gives and accepts.

Blocks pass one of a few kinds of value along a wire:

    frames     a camera's pictures          (camera → a vision task)
    audio      a microphone's sound         (microphone → a sound task)
    detection  what a task found: count, present, label, score
    number     a sensor's reading: value (light/soil 0–1, distance m, temperature °C)
    bool       yes/no: a rule's answer, a button pressed, motion seen

A block takes one input of the kinds in `takes` (sources take none) and gives `gives`. The
page builds its form controls from this table and the spec checks files against it, so adding
a block is one entry here and its builder in runner.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from labkit.errors import Message
from labkit.errors import lazy_gettext as _

REQUIRED = object()

SOURCE, TASK, RULE, ACTION = "source", "task", "rule", "action"
GROUPS = (SOURCE, TASK, RULE, ACTION)

#: named colours of the RGB action (labkit.projects.bindings.COLOURS has their RGB values)
COLOUR_NAMES = ("red", "green", "blue", "yellow", "orange", "purple", "cyan", "pink", "white",
                "off")
#: colours the colour tracker follows (labkit.vision.colour.COLOURS)
TRACKED_COLOURS = ("red", "green", "blue", "yellow", "orange", "purple")


@dataclass(frozen=True)
class Param:
    """One parameter of a block: its kind (number, int, text, choice, words, condition,
    device), its range or choices, and its default (REQUIRED: none)."""

    name: str
    kind: str
    title: Message
    default: Any = REQUIRED
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "title": str(self.title),
                               "required": self.required}
        if not self.required:
            out["default"] = self.default
        if self.lo is not None:
            out["lo"], out["hi"] = self.lo, self.hi
        if self.choices:
            out["choices"] = list(self.choices)
        return out


@dataclass(frozen=True)
class BlockType:
    name: str
    group: str
    title: Message
    gives: str | None = None
    takes: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    device: str | None = None        # the kit output it drives (from the wiring), if any
    values: tuple[str, ...] = field(default=())   # names a `compare` test may read
    labels: str | None = None        # "module:NAME" of the labels a task gives, if fixed

    def known_labels(self) -> tuple[str, ...]:
        """The labels this task can give (empty: not a fixed list, e.g. a teachable model)."""
        if self.labels is None:
            return ()
        import importlib

        module, name = self.labels.split(":")
        return tuple(getattr(importlib.import_module(module), name))

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "group": self.group, "title": str(self.title),
                "gives": self.gives, "takes": list(self.takes),
                "params": [p.describe() for p in self.params]}


DETECTION_VALUES = ("count", "score")
_seconds = _("how long (seconds)")
_on_rise = ("bool",)


def _output(name: str, title: Message, device: str, *params: Param) -> BlockType:
    """An action driving a kit output while its input is yes (or once per yes: buzzer, say)."""
    dev = Param("device", "device", _("which output"), device)
    return BlockType(name, ACTION, title, takes=_on_rise, params=(dev, *params), device=device)


BLOCKS: dict[str, BlockType] = {b.name: b for b in (
    # -- sources
    BlockType("camera", SOURCE, _("Camera"), gives="frames"),
    BlockType("microphone", SOURCE, _("Microphone"), gives="audio"),
    BlockType("button", SOURCE, _("Button"), gives="bool",
              params=(Param("device", "device", _("which button"), "button"),)),
    BlockType("motion", SOURCE, _("Motion sensor"), gives="bool",
              params=(Param("device", "device", _("which sensor"), "motion"),)),
    BlockType("sensor", SOURCE, _("Sensor reading"), gives="number", values=("value",),
              params=(Param("device", "device", _("which sensor"), "light"),)),
    # -- tasks
    BlockType("faces", TASK, _("Face detector"), gives="detection", takes=("frames",),
              values=DETECTION_VALUES),
    BlockType("hands", TASK, _("Hands and gestures"), gives="detection", takes=("frames",),
              values=DETECTION_VALUES, labels="labkit.vision.gestures:GESTURES"),
    BlockType("pose", TASK, _("Body pose"), gives="detection", takes=("frames",),
              values=DETECTION_VALUES),
    BlockType("colour", TASK, _("Colour finder"), gives="detection", takes=("frames",),
              values=DETECTION_VALUES,
              params=(Param("colour", "choice", _("which colour"), "red",
                            choices=TRACKED_COLOURS),)),
    BlockType("line_counter", TASK, _("People crossing a line"), gives="detection",
              takes=("frames",), values=("count", "entered", "left", "inside"),
              params=(Param("line", "number", _("where the line is (0–1 of the picture)"),
                            0.5, lo=0.05, hi=0.95),
                      Param("direction", "choice", _("the way in"), "right",
                            choices=("right", "left", "down", "up")))),
    BlockType("teachable", TASK, _("My teachable model"), gives="detection",
              takes=("frames",), values=DETECTION_VALUES,
              params=(Param("project", "text", _("project id")),)),
    BlockType("command_words", TASK, _("Command words"), gives="detection", takes=("audio",),
              values=DETECTION_VALUES),
    # -- rules
    BlockType("compare", RULE, _("Compare a number"), gives="bool",
              takes=("detection", "number"),
              params=(Param("test", "condition", _("test, e.g. count >= 2")),)),
    BlockType("label", RULE, _("The label is"), gives="bool", takes=("detection",),
              params=(Param("is", "text", _("label")),)),
    BlockType("held", RULE, _("Held for a while"), gives="bool", takes=("bool",),
              params=(Param("seconds", "number", _seconds, 2.0, lo=0.1, hi=3600),)),
    BlockType("toggle", RULE, _("Each yes switches on/off"), gives="bool", takes=("bool",)),
    # -- actions
    _output("led", _("LED on"), "led"),
    _output("rgb", _("RGB colour"), "rgb",
            Param("colour", "choice", _("colour"), "red", choices=COLOUR_NAMES),
            Param("otherwise", "choice", _("colour otherwise"), "off", choices=COLOUR_NAMES)),
    _output("buzzer", _("Buzzer beep"), "buzzer",
            Param("seconds", "number", _seconds, 0.3, lo=0.05, hi=5)),
    _output("servo", _("Servo angle"), "servo",
            Param("angle", "number", _("angle (degrees)"), 90, lo=-90, hi=90),
            Param("rest", "number", _("angle otherwise"), 0, lo=-90, hi=90)),
    _output("fan", _("Fan on"), "fan"),
    _output("pump", _("Pump on"), "pump"),
    BlockType("say", ACTION, _("Say"), takes=_on_rise,
              params=(Param("text", "words", _("what to say")),
                      Param("lang", "choice", _("language"), "zh_CN",
                            choices=("zh_CN", "en")))),
)}

#: the wiring types each `device` parameter may name, per block
DEVICE_TYPES: dict[str, tuple[str, ...]] = {
    "button": ("Button",), "motion": ("MotionSensor",),
    "sensor": ("MCP3008", "DistanceSensor"),
    "led": ("LED", "PWMLED"), "rgb": ("RGBLED",), "buzzer": ("Buzzer", "TonalBuzzer"),
    "servo": ("AngularServo",), "fan": ("DigitalOutputDevice", "LED"),
    "pump": ("DigitalOutputDevice", "LED"),
}


def vocabulary() -> list[dict[str, Any]]:
    """Every block as the page shows it (titles in the reader's language)."""
    return [b.describe() for b in BLOCKS.values()]
