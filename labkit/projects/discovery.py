"""Finding lab folders: `labkit/labs/<band>/<id>/lab.yaml` and `<data dir>/labs/<band>/<id>/`.

A lab is a folder, so a lab pack installs one by unpacking it into the data dir, and removes
it by deleting the folder. Each folder is read, validated against `labkit/labs/lab.schema.json`
(errors name the file and the YAML line) and cross-checked (its id and band are the folder's,
its wiring is the kit's, its expressions parse, every check a step names exists, every signal
a check reads is declared, its demo scenario only uses known scenes and sounds). A folder that
fails any of this becomes a `LabProblem` — the other labs, the page and `labkit doctor` carry on.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

import yaml

from labkit import yamlio

from labkit.bands import BANDS
from labkit.drivers.wiring import Wiring, load_wiring
from labkit.projects.base import ID_PATTERN
from labkit.projects.bindings import HELPERS
from labkit.projects.expr import Attr, Call, ExprError, Name, Node, parse
from labkit.projects.lab import LabSpec, text
from labkit.projects.parts import part_problem
from labkit.projects.vocabulary import compile_check

log = logging.getLogger(__name__)

PACKAGE_LABS = Path(__file__).resolve().parent.parent / "labs"
SCHEMA_FILE = PACKAGE_LABS / "lab.schema.json"
LAB_FILE = "lab.yaml"
CHECKS_FILE = "checks.py"


@dataclass(frozen=True)
class LabProblem:
    """A lab folder that cannot be used, and why (shown on the page and by the CLI)."""

    lab: str          # the folder name (the lab id it would have)
    path: str         # the file at fault
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"lab": self.lab, "path": self.path, "message": self.message}


# ---- YAML with line numbers -----------------------------------------------------------------
def _lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value
            out[path + (k,)] = key.start_mark.line + 1
            _lines(value, path + (k,), out)
            out[path + (k,)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, path + (i,), out)


def yaml_lines(source: str) -> dict[tuple[Any, ...], int]:
    """Path in the document (keys and indexes) → its line number (1-based)."""
    out: dict[tuple[Any, ...], int] = {}
    try:
        node = yamlio.compose(source)
    except yaml.YAMLError:
        return out
    if node is not None:
        _lines(node, (), out)
    return out


def line_of(lines: dict[tuple[Any, ...], int], path: Iterable[Any]) -> int | None:
    """The line of `path`, or of its nearest parent that has one."""
    parts = tuple(str(p) if not isinstance(p, int) else p for p in path)
    while parts:
        if parts in lines:
            return lines[parts]
        parts = parts[:-1]
    return lines.get(())


def _where(path: Iterable[Any]) -> str:
    parts: list[str] = []
    for p in path:
        parts.append(f"[{p}]" if isinstance(p, int) else (f".{p}" if parts else str(p)))
    return "".join(parts) or "(top level)"


if TYPE_CHECKING:
    import jsonschema

_validator: "jsonschema.protocols.Validator | None" = None


def validator() -> "jsonschema.protocols.Validator":
    global _validator
    if _validator is None:
        schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
        import jsonschema  # ~0.2 CPU-s: only when a lab folder is validated, not at import

        _validator = jsonschema.Draft202012Validator(schema)
    return _validator


def _schema_message(error: "jsonschema.ValidationError") -> str:
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [k for k in error.validator_value if k not in error.instance]
        if set(missing) & {"zh_CN", "en"}:
            return (f"the {' and '.join(missing)} text is missing (every text needs zh_CN "
                    f"and en)")
    path = list(error.absolute_path)
    if error.validator == "oneOf" and path and path[-1] == "pin":
        return f"pin {error.instance!r} is not a GPIO pin (BCM 2–27) or SPI0"
    if error.validator in ("exclusiveMinimum", "minimum") and path[-1:] == ["class_hours"]:
        return f"class_hours must be more than 0 (got {error.instance!r})"
    if error.validator == "oneOf" and len(path) == 2 and path[0] == "uses":
        return ("give either detector: <name> (face, hands, pose, reps, segmentation, emotion, "
                "text, colour, shapes, sound_level, claps, voice, commands, command_words, "
                "sound_words …), device: <kit device> or neighbours: [readings]")
    return error.message


def shared_tracker_problem(name: str, use: dict[str, Any], uses: dict[str, Any]) -> str | None:
    """Why `tracker: other` cannot share `other`'s model (None when it can): a wrapped
    detector (reps, rps) may follow a detector declared before it, running the same model."""
    from labkit.projects.detectors import DETECTORS

    other = use["tracker"]
    kind = DETECTORS.get(str(use.get("detector")))
    if kind is None or kind.wrap is None:
        return ("only a counter or game built on a tracker (reps, rps) can share one, not "
                f"{use.get('detector')!r}")
    order = list(uses)
    if other not in uses or "detector" not in uses[other] or order.index(other) > order.index(name):
        return f"{other!r} is not a detector declared before {name!r}"
    if "tracker" in uses[other]:
        return f"{other!r} shares a tracker itself: name the one it follows"
    theirs = DETECTORS.get(str(uses[other]["detector"]))
    if theirs is None or theirs.target != kind.target:
        return f"{other!r} does not run the model {name!r} needs ({kind.target.split(':')[1]})"
    return None


def neighbours_problem(name: str, use: dict[str, Any], uses: dict[str, Any]) -> str | None:
    """Why a `neighbours:` use cannot vote (None when it can): its readings are uses declared
    before it, and every starting point has one value per reading and one of its labels."""
    order = list(uses)
    for f in use["neighbours"]:
        if f not in uses or order.index(f) > order.index(name) or "neighbours" in uses[f]:
            return f"{f!r} is not a reading (device or detector) declared before {name!r}"
    labels = use.get("labels", [0, 1])
    for i, point in enumerate(use.get("points") or ()):
        if len(point) != len(use["neighbours"]) + 1:
            return (f"point {i + 1} needs {len(use['neighbours'])} value(s) and a label, "
                    f"not {point!r}")
        if point[-1] not in labels or isinstance(point[-1], bool):
            return f"point {i + 1}'s label {point[-1]!r} is not one of {labels!r}"
    if use.get("compare"):
        why = _expr_problem(use["compare"], set(use["neighbours"]), set())
        if why:
            return f"compare: {why}"
    return None


#: the sound recognisers a trials part counts (each an audio_ai UtteranceDetector)
TRIAL_DETECTORS = ("commands", "command_words", "sound_words")


def named_part_problem(part: str, uses: dict[str, Any]) -> str | None:
    """The neighbours part plots a `neighbours:` use; trials count a sound recogniser's."""
    if part == "neighbours" and not any("neighbours" in u for u in uses.values()):
        return "the neighbours part needs a {neighbours: [...]} use"
    if part == "trials" and not any(u.get("detector") in TRIAL_DETECTORS for u in uses.values()):
        return f"the trials part needs a {', '.join(TRIAL_DETECTORS)} detector"
    return None


def nested_problems(use: dict[str, Any]) -> list[tuple[str, str]]:
    """(option, why) for each nested detector option (`demo:` of a teachable) that cannot
    work: it must be a plain camera detector of its own."""
    from labkit.projects.detectors import CAMERA, DETECTORS

    kind = DETECTORS.get(str(use.get("detector")))
    out: list[tuple[str, str]] = []
    for key in kind.nested if kind is not None else ():
        if key not in use:
            continue
        inner = use[key]
        if not isinstance(inner, dict) or "detector" not in inner:
            out.append((key, f"{key} is a detector's use: {{detector: <name>, …}}"))
            continue
        theirs = DETECTORS.get(str(inner["detector"]))
        if theirs is None:
            out.append((key, f"unknown detector {inner['detector']!r}"))
        elif theirs.source != CAMERA or theirs.nested or theirs.wrap is not None:
            out.append((key, f"{key} must be a camera detector such as sorter or hands, "
                             f"not {inner['detector']!r}"))
        elif "tracker" in inner:
            out.append((key, f"{key} runs a model of its own: it cannot share a tracker"))
    return out


# ---- checks.py ------------------------------------------------------------------------------
def load_checks_py(path: Path, band: str, lab_id: str) -> dict[str, tuple[Callable, str]]:
    """Every public function `name(log)` defined in a lab's checks.py, as check `name`."""
    module_name = f"labkit_lab_checks.{band}.{lab_id}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    out: dict[str, tuple[Callable, str]] = {}
    for name, fn in vars(module).items():
        if name.startswith("_") or not inspect.isfunction(fn) or fn.__module__ != module_name:
            continue
        params = [p for p in inspect.signature(fn).parameters.values()
                  if p.default is inspect.Parameter.empty]
        if len(params) != 1:
            continue   # helpers with other signatures are not checks
        doc = (fn.__doc__ or "").strip().split("\n")[0]
        out[name] = (fn, doc)
    return out


# ---- meaning --------------------------------------------------------------------------------
def wiring_problem(w: dict[str, Any], wiring: Wiring) -> str | None:
    """Why a lab's `{pin, device[, lead][, channel]}` disagrees with the kit wiring, or None."""
    device = w["device"]
    if device not in wiring:
        return f"the kit has no device {device!r} (wiring.yaml has: {', '.join(wiring.names())})"
    spec = wiring[device]
    pin = w["pin"]
    if spec.type == "MCP3008":
        if pin != "SPI0":
            return f"{device} is read through the MCP3008 on SPI0, not pin {pin}"
        channel = w.get("channel")
        if channel is not None and channel != spec.options["channel"]:
            return f"{device} is on MCP3008 channel {spec.options['channel']}, not {channel}"
        return None
    if pin == "SPI0":
        return f"{device} is not an SPI device; give its GPIO pin"
    leads = list(spec.pins)
    lead = w.get("lead") or (leads[0] if len(leads) == 1 else None)
    if lead is None:
        return f"{device} has several pins ({', '.join(leads)}); say which with 'lead'"
    if lead not in spec.pins:
        return f"{device} has no lead {lead!r} (it has: {', '.join(leads)})"
    if spec.pins[lead] != pin:
        return f"{device} {lead} is on pin {spec.pins[lead]} in the kit wiring, not pin {pin}"
    return None


def _roots(node: Node) -> list[Node]:
    """The base names/attrs an expression reads (helpers' arguments included)."""
    if isinstance(node, Call):
        if isinstance(node.func, Name) and node.func.id in HELPERS:
            return [r for a in node.args for r in _roots(a)]
        return _roots(node.func)
    if isinstance(node, (Name, Attr)):
        return [node]
    return []


def _expr_problem(source: Any, names: set[str], wired: set[str]) -> str | None:
    try:
        node = parse(source)
    except ExprError as exc:
        return str(exc)
    if isinstance(node, Call) and isinstance(node.func, Name) and node.func.id not in HELPERS:
        return (f"{node.func.id}() is not a helper; use one of {', '.join(sorted(HELPERS))}")
    for root in _roots(node):
        base = root
        while isinstance(base, Attr):
            if isinstance(base.base, Name) and base.base.id == "kit" and base.attr not in wired:
                return f"kit.{base.attr} is not in the lab's wiring"
            base = base.base
        if isinstance(base, Call):
            continue
        if isinstance(base, Name) and base.id != "kit" and base.id not in names:
            return f"{base.id!r} is not one of the lab's uses ({', '.join(sorted(names)) or '-'})"
    return None


class _Problems:
    """The problems of one lab.yaml, each with its line (the file is composed again for the
    line marks only once a problem is found: a valid lab is parsed once)."""

    def __init__(self, lab: str, rel: str, source: str) -> None:
        self.lab, self.rel, self.source = lab, rel, source
        self._lines: dict[tuple[Any, ...], int] | None = None
        self.items: list[LabProblem] = []

    def add(self, path: Iterable[Any], message: str) -> None:
        path = list(path)
        if self._lines is None:
            self._lines = yaml_lines(self.source)
        line = line_of(self._lines, path)
        at = f", line {line}" if line else ""
        self.items.append(LabProblem(self.lab, f"{self.rel}{at}", f"{_where(path)}: {message}"))


def _meaning(data: dict[str, Any], band: str, lab_id: str, folder: Path, wiring: Wiring,
             p: _Problems) -> dict[str, tuple[Callable, str]]:
    """Cross-checks beyond the schema; returns the lab's checks (id → (fn, description))."""
    if data.get("id", lab_id) != lab_id:
        p.add(["id"], f"id {data['id']!r} does not match the folder name {lab_id!r}")
    if data.get("band", band) != band:
        p.add(["band"], f"band {data['band']!r} but the folder is in {band}/")
    lo, hi = data["grades"]
    if lo > hi:
        p.add(["grades"], f"[{lo}, {hi}]: the first grade is after the last")
    step_ids = [s["id"] for s in data["steps"]]
    for i, sid in enumerate(step_ids):
        if sid in step_ids[:i]:
            p.add(["steps", i, "id"], f"step id {sid!r} is used twice")
    crit = [c["id"] for c in data["rubric"]["criteria"]]
    for i, cid in enumerate(crit):
        if cid in crit[:i]:
            p.add(["rubric", "criteria", i, "id"], f"criterion id {cid!r} is used twice")
    for i, w in enumerate(data["wiring"]):
        why = wiring_problem(w, wiring)
        if why:
            p.add(["wiring", i], why)
    for i, m in enumerate(data["materials"]):
        if "part" in m and m["part"] not in wiring:
            p.add(["materials", i, "part"], f"the kit has no device {m['part']!r}")
    wired = {w["device"] for w in data["wiring"]}
    uses = data.get("uses") or {}
    for name, use in uses.items():
        if "device" in use and use["device"] not in wired:
            p.add(["uses", name], f"the lab uses the {use['device']!r} but does not wire it")
        if "tracker" in use:
            why = shared_tracker_problem(name, use, uses)
            if why:
                p.add(["uses", name, "tracker"], why)
        if "neighbours" in use:
            why = neighbours_problem(name, use, uses)
            if why:
                p.add(["uses", name], why)
        for key, why in nested_problems(use):
            p.add(["uses", name, key], why)
    events = set(data.get("events") or {})
    for name in sorted(events & set(uses)):
        p.add(["events", name], f"{name!r} names both an event and a detector or device")
    names = set(uses) | events    # an event's newest data is readable too (lab.LastEvent)
    for name, decl in (data.get("signals") or {}).items():
        source = decl["value"] if isinstance(decl, dict) else decl
        why = _expr_problem(source, names, wired)
        if why:
            p.add(["signals", name], why)
    for name, signal in (data.get("record") or {}).items():
        if signal not in (data.get("signals") or {}):
            p.add(["record", name], f"{signal!r} is not one of the lab's signals "
                                    f"({', '.join(sorted(data.get('signals') or {})) or '-'})")
    for tgt, source in (data.get("bindings") or {}).items():
        device = tgt.split(".")[0]
        if device not in wired:
            p.add(["bindings", tgt], f"{device!r} is not in the lab's wiring")
        why = _expr_problem(source, names, wired)
        if why:
            p.add(["bindings", tgt], why)
    for name, decl in (data.get("actions") or {}).items():
        why = _expr_problem(decl["when"], names, wired)
        if why:
            p.add(["actions", name, "when"], why)
        if decl.get("beep") and "buzzer" not in wired:
            p.add(["actions", name, "beep"], "the lab beeps but does not wire the 'buzzer'")
    for i, part in enumerate(data.get("parts") or ()):
        why = part_problem(part, uses) or (named_part_problem(part, uses)
                                           if isinstance(part, str) else None)
        if why:
            p.add(["parts", i], why)
    # checks: the vocabulary, then checks.py
    checks: dict[str, tuple[Callable, str]] = {}
    readable = (set(data.get("signals") or {}) | wired | set(data.get("events") or {})
                | set(data.get("actions") or {}) | {"kept"})
    compiled = {}
    for cid, decl in (data.get("checks") or {}).items():
        source = decl["check"] if isinstance(decl, dict) else decl
        try:
            compiled[(("checks", cid))] = (cid, compile_check(source),
                                           decl.get("description", "") if isinstance(decl, dict)
                                           else "")
        except ExprError as exc:
            p.add(["checks", cid], str(exc))
    py = folder / CHECKS_FILE
    if py.is_file():
        try:
            for cid, (fn, doc) in load_checks_py(py, band, lab_id).items():
                checks[cid] = (fn, doc or cid)
        except BaseException as exc:  # a lab's own code: anything it raises is its problem
            if isinstance(exc, KeyboardInterrupt):
                raise
            p.items.append(LabProblem(lab_id, str(py), f"checks.py cannot be loaded: "
                                                       f"{type(exc).__name__}: {exc}"))
    for i, step in enumerate(data["steps"]):
        ref = step["check"]
        if ID_PATTERN.fullmatch(ref):
            continue
        try:
            compiled[("steps", i, "check")] = (step["id"], compile_check(ref), "")
        except ExprError as exc:
            p.add(["steps", i, "check"], str(exc))
    for path, (cid, chk, description) in compiled.items():
        for sig in chk.signals():
            if sig not in readable:
                p.add(list(path), f"{chk.name} reads {sig!r}, which is not a signal, event or "
                                  f"wired device of this lab ({', '.join(sorted(readable))})")
        if chk.name == "in_order":
            for s in chk.params["steps"]:
                if s not in step_ids:
                    p.add(list(path), f"in_order: there is no step {s!r}")
        if cid in checks:
            p.add(list(path), f"check {cid!r} is defined twice (checks: and checks.py)")
        checks[cid] = (chk, description or chk.describe())
    for i, step in enumerate(data["steps"]):
        ref = step["check"]
        if ID_PATTERN.fullmatch(ref) and ref not in checks:
            p.add(["steps", i, "check"], f"there is no check {ref!r} (the lab has: "
                                         f"{', '.join(sorted(checks)) or 'none'})")
    if "demo" in data:
        from labkit.projects.demo import DemoError, compile_script

        try:
            segments = compile_script(data["demo"], wired)
        except DemoError as exc:
            p.add(["demo", *exc.path], exc.message)
        else:
            if any(seg.outputs for seg in segments) and not data.get("programs"):
                p.add(["demo"], "`program:` demo items play what a student's program does: "
                                "only a lab with `programs: true` has one")
    return checks


def load_lab(folder: Path, band: str, origin: str = "package",
             wiring: Wiring | None = None) -> LabSpec | list[LabProblem]:
    """Read and validate one lab folder: a LabSpec, or the problems that stop it."""
    lab_id = folder.name
    path = folder / LAB_FILE
    rel = str(path)
    if not ID_PATTERN.fullmatch(lab_id):
        return [LabProblem(lab_id, str(folder), "the folder name must be lower_snake_case "
                                                "(it is the lab's id)")]
    if not path.is_file():
        return [LabProblem(lab_id, str(folder), f"the folder has no {LAB_FILE}")]
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [LabProblem(lab_id, rel, f"cannot be read ({exc})")]
    try:
        data = yamlio.safe_load(source)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        return [LabProblem(lab_id, rel + where,
                           f"not valid YAML: {getattr(exc, 'problem', None) or exc}")]
    if data is None:
        return [LabProblem(lab_id, rel, "the file is empty")]
    p = _Problems(lab_id, rel, source)
    for error in sorted(validator().iter_errors(data), key=lambda e: list(map(str, e.path))):
        p.add(error.absolute_path, _schema_message(error))
    if p.items:
        return p.items
    checks = _meaning(data, band, lab_id, folder, wiring or load_wiring(None), p)
    if p.items:
        return p.items
    return LabSpec(lab_id, band, folder, data, origin, checks)


def lab_folders(root: Path) -> Iterable[tuple[str, Path] | LabProblem]:
    """(band, folder) for every lab folder under `root`, and problems for stray entries."""
    if not root.is_dir():
        return
    for band_dir in sorted(root.iterdir()):
        if band_dir.name.startswith((".", "_")) or not band_dir.is_dir():
            continue
        if band_dir.name not in BANDS:
            yield LabProblem(band_dir.name, str(band_dir),
                             f"{band_dir.name!r} is not a band (use one of {', '.join(BANDS)})")
            continue
        for folder in sorted(band_dir.iterdir()):
            if folder.is_dir() and not folder.name.startswith((".", "_")):
                yield band_dir.name, folder


def discover_labs(roots: Iterable[tuple[Path, str]], wiring: Wiring | None = None
                  ) -> tuple[dict[str, LabSpec], list[LabProblem]]:
    """Every valid lab under the roots ((folder, origin) pairs, first wins), and the problems."""
    specs: dict[str, LabSpec] = {}
    problems: list[LabProblem] = []
    wiring = wiring or load_wiring(None)
    for root, origin in roots:
        for found in lab_folders(Path(root)):
            if isinstance(found, LabProblem):
                problems.append(found)
                continue
            band, folder = found
            try:
                result = load_lab(folder, band, origin, wiring)
            except Exception as exc:  # never let one folder take discovery down
                log.exception("lab folder %s", folder)
                result = [LabProblem(folder.name, str(folder), f"{type(exc).__name__}: {exc}")]
            if isinstance(result, list):
                for problem in result:
                    log.warning("lab %s: %s", problem.lab, problem)
                problems.extend(result)
                continue
            other = specs.get(result.id)
            if other is not None:
                problems.append(LabProblem(result.id, str(folder / LAB_FILE),
                                           f"lab id {result.id!r} is also used by "
                                           f"{other.folder / LAB_FILE}"))
                continue
            specs[result.id] = result
    return specs, problems


__all__ = ["LabProblem", "LabSpec", "discover_labs", "load_lab", "text", "PACKAGE_LABS"]
