"""The check vocabulary: what a lab grades from its event log, without code.

Each check is a pure function of the log (so a test can feed it a hand-written log) and is
written in lab.yaml as a call, e.g. ``follows(led, face, times=3)``:

    rises(signal, times=1)                          signal turned on `times` times
    held(signal, seconds, times=1)                  signal stayed on ≥ `seconds`, `times` times
    follows(output, input, times=1, min_seconds=0.2)
                                                    output was on while input was on, counted
                                                    once per output-on period
    off_while(output, input, times=1, min_seconds=0.2)
                                                    output was off while input was off (periods
                                                    after the output first came on)
    crosses(signal, threshold, direction="up", times=1)
                                                    a number crossed `threshold` (up/down/either)
    happened(event, times=1, **where)               an event (or a value of a signal) was logged
                                                    `times` times; `where` filters its fields,
                                                    e.g. happened(trained, accuracy=">= 0.8")
    in_order(steps)                                 the named steps passed in this order
    taught(event=None)                              the student's own /learn model answers
                                                    (picked for a teachable detector), or
                                                    `event` (a training finishing) happened

Signals are the names in the log: kit devices (``led``, ``button``, ``light`` …, written by the
runner from the bench), the lab's declared `signals:` and its `events:`. "On" means truthy
(a number > 0, True, a non-empty string or colour).
"""

from __future__ import annotations

import inspect
import math
import operator
import re
from dataclasses import dataclass
from typing import Any, Callable

from labkit.projects.base import CheckResult
from labkit.projects.eventlog import EventLog, complement, count_overlapping
from labkit.projects.expr import Call, ExprError, Name, Node, literal, parse

#: parameters whose value names a log entry (checked against what the lab declares)
SIGNAL_PARAMS = ("signal", "output", "input", "event")


def rises(log: EventLog, signal: str, times: int = 1) -> CheckResult:
    """`signal` turned on `times` times."""
    return CheckResult.counting(len(log.rises(signal)), times)


def held(log: EventLog, signal: str, seconds: float, times: int = 1) -> CheckResult:
    """`signal` stayed on for at least `seconds`, `times` times (a period still going counts
    as soon as it is long enough)."""
    n = sum(1 for a, b in log.intervals(signal) if b - a >= seconds)
    return CheckResult.counting(n, times)


def follows(log: EventLog, output: str, input: str, times: int = 1,
            min_seconds: float = 0.2) -> CheckResult:
    """`output` was on while `input` was on: each output-on period sharing ≥ `min_seconds`
    with an input-on period counts once (a flicker shorter than that does not)."""
    n = count_overlapping(log.intervals(output), log.intervals(input), min_seconds)
    return CheckResult.counting(n, times)


def off_while(log: EventLog, output: str, input: str, times: int = 1,
              min_seconds: float = 0.2) -> CheckResult:
    """`output` was off while `input` was off. Only the off periods after the output first
    came on count (before that, nothing had happened yet), so an output that never works
    does not pass."""
    out_on = log.intervals(output)
    if not out_on:
        return CheckResult.counting(0, times)
    now = log.clock()
    out_off = complement(out_on, out_on[0][0], now)
    entries = log.entries()
    start = entries[0].ts if entries else now
    in_off = complement(log.intervals(input), start, now)
    return CheckResult.counting(count_overlapping(out_off, in_off, min_seconds), times)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def crosses(log: EventLog, signal: str, threshold: float, direction: str = "up",
            times: int = 1) -> CheckResult:
    """A numeric `signal` crossed `threshold`: "up" (from below to at/above), "down" (from
    above to at/below) or "either"."""
    n, before = 0, None
    for entry in log.entries(signal):
        value = _number(entry.value)
        if value is None:
            continue
        if before is not None:
            up = before < threshold <= value
            down = before > threshold >= value
            if (direction in ("up", "either") and up) or (direction in ("down", "either")
                                                          and down):
                n += 1
        before = value
    return CheckResult.counting(n, times)


_OPS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
        "==": operator.eq, "!=": operator.ne}
_CONDITION = re.compile(r"^\s*(>=|<=|==|!=|>|<)\s*(-?[0-9.]+(?:e-?[0-9]+)?)\s*$")


def condition(text: Any) -> Callable[[Any], bool] | None:
    """`">= 0.8"` → a test that a value is a number meeting it; None if `text` is not such a
    comparison (lab checks' `where` and pipelines' `compare` rules share it)."""
    cond = _CONDITION.match(text) if isinstance(text, str) else None
    if cond is None:
        return None
    try:
        op, limit = _OPS[cond.group(1)], float(cond.group(2))
    except ValueError:          # "1.2.3" matches the pattern but is no number
        return None

    def test(value: Any) -> bool:
        number = _number(value)
        return number is not None and op(number, limit)
    return test


def _matches(value: Any, where: dict[str, Any]) -> bool:
    for key, want in where.items():
        if isinstance(value, dict):
            got = value.get(key)
        elif key == "value":
            got = value
        else:
            return False
        test = condition(want)
        if test is not None:
            if not test(got):
                return False
        elif got != want:
            return False
    return True


def happened(log: EventLog, event: str, times: int = 1, **where: Any) -> CheckResult:
    """`event` was logged `times` times with fields matching `where` (a value, or a
    comparison like ">= 0.8"; `value=` compares a plain value). Without `where`, only
    truthy entries count (a signal going back to 0 is not an event)."""
    entries = log.entries(event)
    if where:
        n = sum(1 for e in entries if _matches(e.value, where))
    else:
        n = sum(1 for e in entries if e.value not in (None, False, 0, "", [], {}))
    return CheckResult.counting(n, times)


def in_order(log: EventLog, steps: list[str]) -> CheckResult:
    """The steps `steps` passed in this order (the runner logs each passed step as a
    ``step`` note). Progress is how many of them, from the first, passed in order."""
    first: dict[str, float] = {}
    for e in log.entries("step", source="note"):
        first.setdefault(str(e.value), e.ts)
    n, last = 0, -math.inf
    for step in steps:
        ts = first.get(step)
        if ts is None or ts < last:
            break
        n, last = n + 1, ts
    return CheckResult.counting(n, len(steps), f"{n} of {len(steps)} steps in order")


def taught(log: EventLog, event: str | None = None) -> CheckResult:
    """The lab answers with a model the student taught: they picked a trained /learn project
    of theirs for a `teachable` detector (the runner logs it as `model`), or — with `event`,
    a declared /learn event such as a training finishing — taught one during the run."""
    picked = any(isinstance(e.value, dict) and e.value.get("project")
                 for e in log.entries("model"))
    trained = bool(event) and happened(log, str(event)).passed
    return CheckResult.boolean(picked or trained)


VOCABULARY: dict[str, Callable[..., CheckResult]] = {
    "rises": rises, "held": held, "follows": follows, "off_while": off_while,
    "crosses": crosses, "happened": happened, "in_order": in_order, "taught": taught,
}


@dataclass(frozen=True)
class VocabularyCheck:
    """A check of the vocabulary with its arguments bound, ready to run on a log."""

    source: str
    name: str
    params: dict[str, Any]

    def __call__(self, log: EventLog) -> CheckResult:
        return VOCABULARY[self.name](log, **self.params)

    def signals(self) -> list[str]:
        """The log names this check reads (for the lab's cross-check)."""
        return [self.params[p] for p in SIGNAL_PARAMS if p in self.params]

    def describe(self) -> str:
        return self.source


def _validate(name: str, params: dict[str, Any]) -> None:
    for key in SIGNAL_PARAMS:
        if key in params and not (isinstance(params[key], str) and params[key]):
            raise ExprError(f"{name}: {key} must be a signal name")
    if "times" in params and (isinstance(params["times"], bool) or
                              not isinstance(params["times"], int) or params["times"] < 1):
        raise ExprError(f"{name}: times must be a whole number ≥ 1")
    for key in ("seconds", "min_seconds", "threshold"):
        if key in params and _number(params[key]) is None:
            raise ExprError(f"{name}: {key} must be a number")
    if params.get("seconds", 1) <= 0:
        raise ExprError(f"{name}: seconds must be more than 0")
    if params.get("direction", "up") not in ("up", "down", "either"):
        raise ExprError(f"{name}: direction must be up, down or either")
    if name == "in_order":
        steps = params.get("steps")
        if not isinstance(steps, list) or len(steps) < 2 or not all(isinstance(s, str)
                                                                     for s in steps):
            raise ExprError("in_order: give the step ids, e.g. in_order([look, follow])")


def compile_check(text: Any) -> VocabularyCheck:
    """`"follows(led, face, times=3)"` → a bound check; ExprError says what is wrong."""
    node: Node = parse(text)
    if not isinstance(node, Call) or not isinstance(node.func, Name):
        raise ExprError(f"{text!r} is not a check; write e.g. rises(face, times=2)")
    name = node.func.id
    fn = VOCABULARY.get(name)
    if fn is None:
        raise ExprError(f"there is no check {name!r}; the vocabulary is: "
                        f"{', '.join(VOCABULARY)}")
    args = [literal(a, bare=True) for a in node.args]
    kwargs = {k: literal(v, bare=True) for k, v in node.kwargs}
    try:
        bound = inspect.signature(fn).bind(None, *args, **kwargs)
    except TypeError as exc:
        raise ExprError(f"{name}: {exc}") from None
    params = {k: v for k, v in bound.arguments.items() if k != "log"}
    where = params.pop("where", None)
    if isinstance(where, dict):
        params.update(where)
    _validate(name, params)
    return VocabularyCheck(str(text).strip(), name, params)
