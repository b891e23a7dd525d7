"""Semester plans over the labs: loading, validation and the class-hour report.

    labkit/labs/<band>/<id>/lab.yaml          one graded lab (its lesson text lives there)
    labkit/curriculum/plans/<band>.yaml       which labs each grade takes in which week
    labkit/curriculum/schema/plan.schema.json the JSON Schema plans are validated against

A lesson is a lab: the lab folders are discovered and validated by `labkit.projects` (a broken
folder is a `LabProblem`, listed here with the plan errors); this module checks the plans
against the labs (they exist, suit the grades, are of the plan's band) and reports every
problem with the file and the place in it — all of them, not just the first.

`report()` adds the class-hour totals per grade against the targets (grades 1–2: ≥ 3 class
hours per semester; grades 3–8: ≥ 9 per 18-week semester, one every two weeks; high school:
≥ 1 cross-disciplinary AI practice per semester). Targets not met are reported, not hidden,
and do not make the curriculum invalid: band issues add labs over time.

The plans ship inside the package, so an installed (non-editable) labkit needs no
`LABKIT_CURRICULUM`; that variable (or `--dir`) points at another plans folder.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from labkit import yamlio
from labkit.bands import BANDS
from labkit.projects.lab import text
from labkit.store.problems import N_, Problem

if TYPE_CHECKING:
    import jsonschema

log = logging.getLogger(__name__)

TERMS = ("autumn", "spring")
LANGS = ("zh_CN", "en")
PACKAGE_CURRICULUM = Path(__file__).resolve().parent


def default_root() -> Path:
    """`LABKIT_CURRICULUM` if set, else the plans shipped in the package."""
    env = os.environ.get("LABKIT_CURRICULUM")
    return Path(env).expanduser() if env else PACKAGE_CURRICULUM


@dataclass(frozen=True)
class KnownProject:
    """What the lab registry knows about one project (enough to validate lessons)."""

    checks: frozenset[str]
    devices: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Target:
    """A class-hour target for a group of grades."""

    key: str
    label: str
    grades: tuple[int, ...]
    kind: str          # "hours" or "cross"
    minimum: float


TARGETS = (
    Target("g1_2", "grades 1–2: ≥ 3 class hours per semester", (1, 2), "hours", 3),
    Target("g3_8", "grades 3–8: ≥ 9 class hours per 18-week semester (one every two weeks)",
           (3, 4, 5, 6, 7, 8), "hours", 9),
    Target("high", "high school (grades 10–12): ≥ 1 cross-disciplinary AI practice per semester",
           (10, 11, 12), "cross", 1),
)


@dataclass
class Lesson:
    id: str
    band: str
    path: Path
    data: dict[str, Any]

    def t(self, key: str, lang: str) -> str:
        return text(self.data.get(key), lang)

    @property
    def project(self) -> str:
        """The lab that runs this lesson (a lesson is a lab: the same id)."""
        return self.id

    @property
    def class_hours(self) -> float:
        return float(self.data["class_hours"])

    @property
    def grades(self) -> tuple[int, int]:
        g = self.data["grades"]
        return int(g[0]), int(g[1])

    @property
    def steps(self) -> list[dict[str, Any]]:
        return list(self.data["steps"])

    @property
    def criteria(self) -> list[dict[str, Any]]:
        return list(self.data["rubric"]["criteria"])

    @property
    def cross_disciplinary(self) -> bool:
        return any(s != "it" for s in self.data.get("subjects", ()))

    def bindings(self) -> list[tuple[str, str]]:
        """(step id, check id) for each step, in order (an inline check has the step's id)."""
        from labkit.projects.base import ID_PATTERN

        return [(s["id"], s["check"] if ID_PATTERN.fullmatch(str(s["check"])) else s["id"])
                for s in self.data["steps"]]

    def criterion(self, criterion_id: str) -> dict[str, Any] | None:
        return next((c for c in self.criteria if c["id"] == criterion_id), None)


@dataclass
class Plan:
    band: str
    path: Path
    data: dict[str, Any]

    @property
    def semesters(self) -> list[dict[str, Any]]:
        return list(self.data["semesters"])


@dataclass
class Curriculum:
    root: Path
    lessons: dict[str, Lesson] = field(default_factory=dict)
    plans: dict[str, Plan] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    def lessons_in(self, band: str) -> list[Lesson]:
        return sorted((lesson for lesson in self.lessons.values() if lesson.band == band),
                      key=lambda lesson: (lesson.grades, lesson.id))

    def lesson(self, lesson_id: str) -> Lesson:
        try:
            return self.lessons[lesson_id]
        except KeyError:
            raise Problem(N_("There is no lesson called \"%(lesson)s\"."),
                          fix=N_("Pick a lab from the list on the home page."),
                          code="not_found", lesson=lesson_id) from None


# ---- loading ------------------------------------------------------------------------------
def _schema(root: Path, name: str) -> dict[str, Any]:
    for folder in (root / "schema", PACKAGE_CURRICULUM / "schema"):
        path = folder / name
        if path.is_file():
            schema = json.loads(path.read_text(encoding="utf-8"))
            # the bands are listed once, in labkit.bands; the schema files leave them out
            band = schema.get("properties", {}).get("band")
            if isinstance(band, dict):
                band["enum"] = list(BANDS)
            return schema
    raise Problem(N_("The curriculum schema %(name)s is missing."),
                  fix=N_("Reinstall labkit: its curriculum schema is part of the package."),
                  code="bad_lesson",
                  name=name)


def _where(error: jsonschema.ValidationError) -> str:
    parts = []
    for p in error.absolute_path:
        parts.append(f"[{p}]" if isinstance(p, int) else (f".{p}" if parts else str(p)))
    return "".join(parts) or "(top level)"


def _schema_errors(validator: jsonschema.protocols.Validator, data: Any, rel: str) -> list[str]:
    out = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        message = error.message
        if error.validator == "required" and isinstance(error.instance, dict):
            missing = [k for k in error.validator_value if k not in error.instance]
            if set(missing) & set(LANGS):
                message = f"the {' and '.join(missing)} text is missing (every text needs " \
                          f"zh_CN and en)"
        elif error.validator == "oneOf" and error.absolute_path and \
                list(error.absolute_path)[-1] == "pin":
            message = f"pin {error.instance!r} is not a GPIO pin (BCM 2–27) or SPI0"
        elif error.validator in ("exclusiveMinimum", "minimum") and \
                list(error.absolute_path)[-1:] == ["class_hours"]:
            message = f"class_hours must be more than 0 (got {error.instance!r})"
        out.append(f"{rel}: {_where(error)}: {message}")
    return out


def _read_yaml(path: Path, rel: str, errors: list[str]) -> Any:
    try:
        return yamlio.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        errors.append(f"{rel}: not valid YAML{where}: {getattr(exc, 'problem', exc)}")
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(f"{rel}: cannot be read ({exc})")
    return None


def load(root: Path | None = None, labs: Any = None) -> Curriculum:
    """Load the labs (as lessons) and validate every plan under `root`.

    `labs` is a lab registry (`labkit.projects.registry`: `.specs` and `.problems`); by
    default the installation's. Labs that failed validation are not lessons (the page shows
    the others) and their problems are listed in `errors`, followed by the plans' problems.
    """
    root = Path(root) if root is not None else default_root()
    if labs is None:
        from labkit.projects.registry import registry

        labs = registry()
    cur = Curriculum(root)
    cur.errors.extend(str(p) for p in labs.problems)
    import jsonschema  # ~0.2 CPU-s: only when the curriculum is (re)loaded, not on every start

    for spec in labs.specs.values():
        cur.lessons[spec.id] = Lesson(spec.id, spec.band, spec.folder / "lab.yaml", spec.data)
    plan_v = jsonschema.Draft202012Validator(_schema(root, "plan.schema.json"))
    plans_dir = root / "plans"
    if not plans_dir.is_dir():
        cur.errors.append(f"{root}: no plans/ folder")
    for path in sorted(plans_dir.glob("*.y*ml")) if plans_dir.is_dir() else []:
        rel = path.relative_to(root).as_posix()
        data = _read_yaml(path, rel, cur.errors)
        if data is None:
            if not any(e.startswith(rel) for e in cur.errors):
                cur.errors.append(f"{rel}: the file is empty")
            continue
        problems = _schema_errors(plan_v, data, rel)
        if not problems:
            problems = _plan_meaning(data, path, rel, cur)
        if problems:
            cur.errors.extend(problems)
            continue
        cur.plans[data["band"]] = Plan(data["band"], path, data)
    return cur


def _plan_meaning(data: dict[str, Any], path: Path, rel: str, cur: Curriculum) -> list[str]:
    out: list[str] = []
    if path.stem != data["band"]:
        out.append(f"{rel}: band {data['band']!r} does not match the file name {path.stem!r}")
    ids = [s["id"] for s in data["semesters"]]
    for dup in sorted({i for i in ids if ids.count(i) > 1}):
        out.append(f"{rel}: semester id {dup!r} is used twice")
    for i, sem in enumerate(data["semesters"]):
        lo, hi = sem["grades"]
        if lo > hi:
            out.append(f"{rel}: semesters[{i}].grades: the first grade is after the last")
        seen: set[str] = set()
        for j, item in enumerate(sem["lessons"]):
            where = f"{rel}: semesters[{i}].lessons[{j}]"
            if item["week"] > data["weeks"]:
                out.append(f"{where}: week {item['week']} is after the last week "
                           f"({data['weeks']})")
            if item["lesson"] in seen:
                out.append(f"{where}: lesson {item['lesson']!r} is listed twice")
            seen.add(item["lesson"])
            lesson = cur.lessons.get(item["lesson"])
            if lesson is None:
                out.append(f"{where}: there is no (valid) lesson {item['lesson']!r}")
                continue
            if lesson.band != data["band"]:
                out.append(f"{where}: lesson {lesson.id!r} is in band {lesson.band!r}, "
                           f"not {data['band']!r}")
            llo, lhi = lesson.grades
            if lhi < lo or llo > hi:
                out.append(f"{where}: lesson {lesson.id!r} is for grades {llo}–{lhi}, the "
                           f"semester for grades {lo}–{hi}")
    return out


# ---- the report ---------------------------------------------------------------------------
def _totals(cur: Curriculum) -> dict[tuple[int, str], dict[str, Any]]:
    """(grade, term) → hours, cross-disciplinary count, weeks with a lesson, lesson ids."""
    out: dict[tuple[int, str], dict[str, Any]] = {}
    for grade in range(1, 13):
        for term in TERMS:
            out[(grade, term)] = {"hours": 0.0, "cross": 0, "weeks": set(), "lessons": [],
                                  "weeks_total": 18}
    for plan in cur.plans.values():
        for sem in plan.semesters:
            lo, hi = sem["grades"]
            for grade in range(lo, hi + 1):
                cell = out[(grade, sem["term"])]
                cell["weeks_total"] = plan.data["weeks"]
                for item in sem["lessons"]:
                    lesson = cur.lessons[item["lesson"]]
                    cell["hours"] += lesson.class_hours
                    cell["cross"] += 1 if lesson.cross_disciplinary else 0
                    cell["weeks"].add(item["week"])
                    cell["lessons"].append(lesson.id)
    return out


def report(cur: Curriculum) -> dict[str, Any]:
    """Validity plus, per target group, each grade's totals per term against the target."""
    totals = _totals(cur)
    groups = []
    for target in TARGETS:
        rows = []
        for grade in target.grades:
            for term in TERMS:
                cell = totals[(grade, term)]
                value = cell["hours"] if target.kind == "hours" else cell["cross"]
                fortnights = len({(w - 1) // 2 for w in cell["weeks"]})
                rows.append({"grade": grade, "term": term, "hours": cell["hours"],
                             "cross_disciplinary": cell["cross"], "value": value,
                             "fortnights_with_lesson": fortnights,
                             "fortnights": (cell["weeks_total"] + 1) // 2,
                             "lessons": cell["lessons"], "met": value >= target.minimum})
        groups.append({"key": target.key, "target": target.label, "kind": target.kind,
                       "minimum": target.minimum, "met": all(r["met"] for r in rows),
                       "rows": rows})
    untargeted = [{"grade": g, "term": t, "hours": totals[(g, t)]["hours"]}
                  for g in range(1, 13) for t in TERMS
                  if not any(g in tg.grades for tg in TARGETS)]
    return {"root": str(cur.root), "valid": cur.valid, "errors": list(cur.errors),
            "lessons": {band: [lesson.id for lesson in cur.lessons_in(band)] for band in BANDS},
            "plans": sorted(cur.plans), "targets": groups, "no_target": untargeted,
            "targets_met": sum(1 for g in groups if g["met"]), "targets_total": len(groups)}


def _fmt_hours(h: float) -> str:
    return f"{h:g} h"


def _merge_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of neighbouring grades with the same figures, shown once ("grades 3–6")."""
    def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
        keys = ("term", "hours", "cross_disciplinary", "fortnights_with_lesson", "met")
        return all(a[k] == b[k] for k in keys)

    merged: list[dict[str, Any]] = []
    for term in TERMS:
        for row in (r for r in rows if r["term"] == term):
            last = merged[-1] if merged and merged[-1]["term"] == term else None
            if last is not None and same(last, row) and last["last_grade"] == row["grade"] - 1:
                last["last_grade"] = row["grade"]
            else:
                merged.append({**row, "first_grade": row["grade"], "last_grade": row["grade"]})
    for row in merged:
        lo, hi = row["first_grade"], row["last_grade"]
        row["grades"] = f"grade {lo}" if lo == hi else f"grades {lo}–{hi}"
    return merged


def format_report(rep: dict[str, Any]) -> str:
    """The report as the terminal shows it (English, one fact per line)."""
    lines = []
    n_lessons = sum(len(v) for v in rep["lessons"].values())
    lines.append(f"curriculum {rep['root']}: {n_lessons} lesson(s) "
                 f"({', '.join(f'{b} {len(v)}' for b, v in rep['lessons'].items())}), "
                 f"{len(rep['plans'])} plan(s)")
    if rep["errors"]:
        lines.append(f"INVALID — {len(rep['errors'])} problem(s):")
        lines.extend(f"  error: {e}" for e in rep["errors"])
    else:
        lines.append("valid: every lesson and plan passed the schema and the cross-checks")
    lines.append("class-hour targets:")
    for group in rep["targets"]:
        mark = "met" if group["met"] else "NOT MET"
        lines.append(f"  [{mark}] {group['target']}")
        for row in _merge_rows(group["rows"]):
            if group["kind"] == "hours":
                got = (f"{_fmt_hours(row['hours'])}, a lesson in "
                       f"{row['fortnights_with_lesson']}/{row['fortnights']} fortnights")
                short = group["minimum"] - row["hours"]
                gap = f" — {short:g} h short" if short > 0 else ""
            else:
                got = (f"{row['cross_disciplinary']} cross-disciplinary practice(s), "
                       f"{_fmt_hours(row['hours'])}")
                gap = " — none planned" if not row["met"] else ""
            ok = "ok " if row["met"] else "LOW"
            lines.append(f"      {ok} {row['grades']:<11} {row['term']:<6}: {got}{gap}")
    extra = [r for r in rep["no_target"] if r["hours"]]
    if extra:
        lines.append("  (no target) " + ", ".join(f"grade {r['grade']} {r['term']}: "
                                                 f"{_fmt_hours(r['hours'])}" for r in extra))
    lines.append(f"targets met: {rep['targets_met']}/{rep['targets_total']} grade bands"
                 + ("" if rep["targets_met"] == rep["targets_total"]
                    else " — the bands marked NOT MET need more lessons in their plans"))
    return "\n".join(lines)


# ---- a cached copy for the web pages ------------------------------------------------------
_cache_lock = threading.Lock()
_cache: dict[tuple[Path, Any], tuple[tuple[Any, ...], Curriculum]] = {}


def _stamp(files: list[Path]) -> tuple[Any, ...]:
    return tuple((str(p), p.stat().st_mtime_ns) for p in files if p.exists())


def cached(root: Path | None = None, labs: Any = None, *,
           data_dir: Path | None = None) -> Curriculum:
    """The curriculum, reloaded when a plan or a lab folder's file changed.

    With `labs=None` the installation's labs (package and `data_dir`) are rediscovered
    after a change, so a lab pack unpacked into the data dir shows up without a restart."""
    from labkit.projects import registry as reg

    root = Path(root) if root is not None else default_root()
    files = sorted(root.rglob("*.y*ml")) if root.is_dir() else []
    if labs is None:
        for lab_root, _origin in reg.lab_roots(data_dir):
            if lab_root.is_dir():
                files += sorted(lab_root.glob("*/*/lab.yaml")) + sorted(
                    lab_root.glob("*/*/checks.py"))
    else:
        files += [spec.folder / "lab.yaml" for spec in labs.specs.values()]
    stamp = _stamp(files)
    key = (root, id(labs) if labs is not None else str(data_dir))
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
    if labs is None:
        if hit is not None:
            reg.forget()
        labs = reg.registry(data_dir)
    cur = load(root, labs)
    for error in cur.errors:
        log.warning("curriculum: %s", error)
    with _cache_lock:
        _cache[key] = (stamp, cur)
    return cur
