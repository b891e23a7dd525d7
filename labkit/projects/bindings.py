"""Signals and bindings of a lab: lab.yaml expressions turned into live value readers.

    signals:   face: faces.present          → the runner logs `face` whenever it changes
    bindings:  led.source: faces.present    → the LED follows the face signal

An expression names a detector of the lab (`faces`), a kit device (`kit.led`, or a device the
lab `uses:`), a sub-signal (`faces.count`, `hands.label_is(fist)`, `level.above(70)`), or wraps
one in a gpiozero.tools helper (`negated(faces.present)`, `scaled(faces.count, 0, 1)`) or
labkit's `choose(signal, {0: off, 1: green, 2: red})`. The runner reads every reader once per
frame/tick on its own clock, so a scripted demo on a simulated clock is deterministic.
"""

from __future__ import annotations

import itertools

from typing import Any, Callable, Iterator

import gpiozero.tools as gz_tools

from labkit.projects.expr import Attr, Call, Const, ExprError, Name, Node, dotted, literal, parse
from labkit.projects.neighbours import vote

#: gpiozero.tools helpers a lab may use (those that never sleep on the wall clock)
GZ_TOOLS = ("negated", "inverted", "scaled", "scaled_full", "scaled_half", "clamped",
            "absoluted", "booleanized", "quantized", "all_values", "any_values", "averaged",
            "summed", "multiplied", "zip_values", "smoothed", "queued")

#: named colours for RGB bindings (`choose(faces.count, {0: off, 1: green, 2: red})`)
COLOURS = {
    "off": (0.0, 0.0, 0.0), "black": (0.0, 0.0, 0.0), "white": (1.0, 1.0, 1.0),
    "red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0),
    "yellow": (1.0, 1.0, 0.0), "orange": (1.0, 0.5, 0.0), "purple": (0.5, 0.0, 1.0),
    "cyan": (0.0, 1.0, 1.0), "pink": (1.0, 0.4, 0.7),
}

#: sub-signal names whose value is a yes/no (logged as True/False)
BOOLEAN_ATTRS = {"present", "label_is", "gesture_is", "toggled", "double", "above", "switch",
                 "is_active", "is_pressed", "motion_detected", "is_lit"}

Reader = Callable[[], Any]


def _colour(value: Any) -> Any:
    if isinstance(value, str) and value in COLOURS:
        return COLOURS[value]
    if isinstance(value, list):
        return tuple(value)
    return value


def choose(values: Any, table: dict[Any, Any], default: Any = None) -> Iterator[Any]:
    """Map each value through `table` (colour names become RGB tuples); values not in the
    table give `default` (or the largest key's entry for numbers above every key)."""
    table = {k: _colour(v) for k, v in table.items()}
    default = _colour(default)
    numeric = sorted(k for k in table if isinstance(k, (int, float)) and not isinstance(k, bool))
    for v in getattr(values, "values", values):
        if v in table:
            yield table[v]
        elif numeric and isinstance(v, (int, float)) and v > numeric[-1]:
            yield table[numeric[-1]]
        else:
            yield default


def _stream(source: Any) -> Iterator[Any]:
    if hasattr(source, "values"):
        return iter(source.values)
    if hasattr(source, "__next__"):
        return source
    return itertools.repeat(source)


def branch(values: Any, threshold: float, low: Any, high: Any) -> Iterator[Any]:
    """One decision-tree node: `low` while the value is ≤ `threshold`, else `high`; `low` and
    `high` may be numbers or further branches, so a learned tree is one nested expression
    (labkit.models.decision_tree writes it)."""
    threshold = float(threshold)
    for v, a, b in zip(_stream(values), _stream(low), _stream(high), strict=False):
        yield a if v is not None and v <= threshold else b


def nearest(points: list[list[float]], k: int, *sources: Any) -> Iterator[Any]:
    """k nearest neighbours: `points` are labelled examples `[feature, …, output]`; each step
    the current values of `sources` (one per feature) get the output most common among the
    `k` closest examples (Euclidean; a tied vote goes to the smallest output, as in
    scikit-learn's KNeighborsClassifier)."""
    if not points or any(len(p) != len(sources) + 1 for p in points):
        raise ValueError(f"nearest(): every point needs {len(sources)} feature(s) and an output")
    xs = [[float(v) for v in p[:-1]] for p in points]
    outs = [p[-1] for p in points]
    for values in zip(*(_stream(src) for src in sources), strict=False):
        if any(v is None for v in values):
            yield None
            continue
        yield vote(xs, outs, k, [float(v) for v in values])[0]


HELPERS: dict[str, Callable[..., Any]] = {name: getattr(gz_tools, name) for name in GZ_TOOLS}
HELPERS["choose"] = choose
HELPERS["branch"] = branch
HELPERS["nearest"] = nearest


class Scope:
    """What names an expression may use: the lab's detectors and devices, and `kit`."""

    def __init__(self, objects: dict[str, Any], kit: Any) -> None:
        self.objects = objects
        self.kit = kit

    def lookup(self, name: str) -> Any:
        if name == "kit":
            return self.kit
        if name in self.objects:
            return self.objects[name]
        raise ExprError(f"{name!r} is not a detector or device of this lab")


def _resolve(node: Node, scope: Scope) -> Any:
    if isinstance(node, Name):
        return scope.lookup(node.id)
    if isinstance(node, Attr):
        if node.attr.startswith("_"):
            raise ExprError(f"{dotted(node)}: private names are not allowed")
        base = _resolve(node.base, scope)
        if base is scope.kit:
            return scope.kit.device(node.attr)
        try:
            return getattr(base, node.attr)
        except AttributeError:
            raise ExprError(f"{dotted(node)}: {dotted(node.base)} has no {node.attr!r}") from None
    if isinstance(node, Call):
        args = [a.value if isinstance(a, Const) else _resolve_or_literal(a, scope)
                for a in node.args]
        kwargs = {k: v.value if isinstance(v, Const) else literal(v, bare=True)
                  for k, v in node.kwargs}
        if isinstance(node.func, Name):
            helper = HELPERS.get(node.func.id)
            if helper is None:
                raise ExprError(f"{node.func.id}() is not a helper; use one of "
                                f"{', '.join(sorted(HELPERS))}")
            return helper(*args, **kwargs)
        method = _resolve(node.func, scope)
        if not callable(method):
            raise ExprError(f"{dotted(node.func)} cannot be called")
        return method(*args, **kwargs)
    return node.value


def _resolve_or_literal(node: Node, scope: Scope) -> Any:
    """Arguments: a signal expression where it names one, else a bare word (`fist`)."""
    if isinstance(node, Name) and node.id not in scope.objects and node.id != "kit":
        return node.id
    return _resolve(node, scope)


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def reader(text: str, scope: Scope) -> Reader:
    """A function returning the expression's current value (one step of a generator)."""
    node = parse(text)
    obj = _resolve(node, scope)
    boolean = isinstance(node, Attr) and node.attr in BOOLEAN_ATTRS or (
        isinstance(node, Call) and isinstance(node.func, Attr) and node.func.attr in BOOLEAN_ATTRS)
    if callable(obj) and not hasattr(obj, "value"):
        raise ExprError(f"{text!r} is a method; call it, e.g. {text}(…)")
    if isinstance(node, Attr) and not (hasattr(obj, "value") or hasattr(obj, "__next__")):
        # a plain attribute (button.is_pressed, servo.angle, led.value): read it every time
        base, attr = _resolve(node.base, scope), node.attr
        if boolean:
            return lambda: bool(getattr(base, attr))
        return lambda: _plain(getattr(base, attr))
    if hasattr(obj, "__next__"):
        gen = obj
        return lambda: _plain(next(gen))
    if hasattr(obj, "value"):
        if boolean:
            return lambda: bool(obj.value)
        return lambda: _plain(obj.value)
    return lambda: obj


def target(text: str, kit: Any, wired: set[str]) -> tuple[Any, str]:
    """`"led.source"` → (the kit's LED, "value"); `"servo.angle"` → (servo, "angle")."""
    device, _, attr = text.partition(".")
    if device not in wired:
        raise ExprError(f"binding {text!r}: {device!r} is not in the lab's wiring")
    attr = attr or "source"
    if attr.startswith("_"):
        raise ExprError(f"binding {text!r}: private names are not allowed")
    return kit.device(device), "value" if attr in ("source", "value") else attr
