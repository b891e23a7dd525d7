"""What travels between kits of a room: a kit's portfolio records out, a roster in, and the
class export merged from many kits.

Records carry the UUIDs of docs/architecture.md § Kit identity, so a run collected twice (or
from a lead that copied its roster to the kit) counts once: merging keeps the first record of
each UUID. A roster copied to a kit keeps the lead's class and student UUIDs, so the same child
on three kits is one student in the merged export.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable

from labkit.store import N_, Problem, Store
from labkit.store.exercise_record import EXERCISES, RecordedRun, record_of
from labkit.store.names import CLASS_NAME_MAX, clean_name, name_key
from labkit.store.report import RunRecord, ScoreRecord, SessionRecord

FORMAT = 1


def export_records(store: Store) -> dict[str, Any]:
    """Every class, student and run of this kit (with step counts and rubric scores)."""
    db = store.db
    classes = [{"uuid": r["uuid"], "name": r["name"]}
               for r in db.query("SELECT uuid, name FROM classes ORDER BY name_key")]
    students = [{"uuid": r["uuid"], "class_uuid": r["class_uuid"], "name": r["name"],
                 "student_no": r["student_no"]}
                for r in db.query("SELECT s.uuid, c.uuid AS class_uuid, s.name, s.student_no "
                                  "FROM students s JOIN classes c ON c.id = s.class_id "
                                  "ORDER BY s.id")]
    scores: dict[int, list[dict[str, Any]]] = {}
    for r in db.query("SELECT run_id, criterion, source, level, max_level FROM scores "
                      "ORDER BY run_id, criterion, source"):
        scores.setdefault(r["run_id"], []).append(
            {"criterion": r["criterion"], "source": r["source"], "level": r["level"],
             "max_level": r["max_level"]})
    measures: dict[int, dict[str, float]] = {}
    for r in db.query("SELECT run_id, name, value FROM run_measures ORDER BY run_id, name"):
        measures.setdefault(r["run_id"], {})[r["name"]] = r["value"]
    runs = []
    for r in db.query(
            "SELECT r.id, r.uuid, s.uuid AS student_uuid, r.lesson_id, r.project_id,"
            " r.title_zh, r.title_en,"
            " r.steps_total, r.started_at, r.ended_at, r.status,"
            " (SELECT COUNT(*) FROM step_results sr WHERE sr.run_id = r.id) AS steps_passed "
            "FROM runs r JOIN students s ON s.id = r.student_id ORDER BY r.id"):
        runs.append({"uuid": r["uuid"], "student_uuid": r["student_uuid"],
                     "lesson_id": r["lesson_id"], "title_zh": r["title_zh"],
                     "title_en": r["title_en"], "steps_total": r["steps_total"],
                     "steps_passed": r["steps_passed"], "started_at": r["started_at"],
                     "ended_at": r["ended_at"], "status": r["status"],
                     "scores": scores.get(r["id"], []),
                     # what the run measured (its lab's `record:`, e.g. PE reps)
                     "project_id": r["project_id"], "measures": measures.get(r["id"], {})})
    sessions = [{"uuid": r.uuid, "class_uuid": r.class_uuid, "class_name": r.class_name,
                 "grade": r.grade, "started_at": r.started_at, "class_hours": r.class_hours,
                 "lab_ids": list(r.lab_ids), "cross_disciplinary": r.cross_disciplinary}
                for r in store.classroom.records(store.kit_id)]
    return {"format": FORMAT, "kit_id": store.kit_id, "classes": classes,
            "students": students, "runs": runs, "sessions": sessions}


def without_runs_of(records: dict[str, Any], *, uuid: str, name: str,
                    class_name: str) -> tuple[dict[str, Any], int]:
    """`records` without the runs of one child (by UUID, or by name in a class of that name),
    and how many runs were dropped. The child's roster entry stays, as it does on the kit."""
    classes = {c.get("uuid"): c.get("name") for c in records.get("classes", [])
               if isinstance(c, dict)}
    theirs = {s.get("uuid") for s in records.get("students", []) if isinstance(s, dict) and (
        s.get("uuid") == uuid or (s.get("name") == name
                                  and classes.get(s.get("class_uuid")) == class_name))}
    runs = [r for r in records.get("runs", []) if isinstance(r, dict)]
    kept = [r for r in runs if r.get("student_uuid") not in theirs]
    return {**records, "runs": kept}, len(runs) - len(kept)


def roster_payload(store: Store, class_id: int) -> dict[str, Any]:
    """One class of this kit as the lead sends it to the room."""
    school_class = store.roster.get_class(class_id)
    students = store.roster.students(class_id)
    return {"class": {"uuid": store.identity.uuid("classes", class_id),
                      "name": school_class.name},
            "students": [{"uuid": store.identity.uuid("students", s.id), "name": s.name,
                          "student_no": s.student_no} for s in students]}


def _bad_roster() -> Problem:
    return Problem(N_("The roster sent by the lead kit is not a class list."),
                   fix=N_("Copy the roster again from the lead kit."), code="bad_roster")


def apply_roster(store: Store, payload: object) -> dict[str, int]:
    """Add a class list from the lead kit: the class (found by UUID, else by name, else made)
    and every student not there yet, keeping the lead's UUIDs. Students already on the kit
    are left as they are; nothing is deleted."""
    if not isinstance(payload, dict) or not isinstance(payload.get("class"), dict) \
            or not isinstance(payload.get("students"), list):
        raise _bad_roster()
    cls, people = payload["class"], payload["students"]
    class_name = clean_name(cls.get("name"), max_len=CLASS_NAME_MAX)
    class_uuid = cls.get("uuid") if isinstance(cls.get("uuid"), str) else None
    class_id = store.identity.row_id("classes", class_uuid) if class_uuid else None
    made_class = 0
    if class_id is None:
        same = [c for c in store.roster.classes() if name_key(c.name) == name_key(class_name)]
        if same:
            class_id = same[0].id
        else:
            class_id = store.roster.add_class(class_name).id
            made_class = 1
            _adopt_uuid(store, "classes", class_id, class_uuid)
    existing = {name_key(s.name) for s in store.roster.students(class_id)}
    new: list[tuple[str, str, str | None]] = []
    for person in people:
        if not isinstance(person, dict):
            raise _bad_roster()
        uuid = person.get("uuid") if isinstance(person.get("uuid"), str) else None
        if uuid and store.identity.row_id("students", uuid) is not None:
            continue
        name = clean_name(person.get("name"))
        if name_key(name) in existing:
            continue
        existing.add(name_key(name))
        new.append((name, str(person.get("student_no") or ""), uuid))
    used = {s.student_no for s in store.roster.students(class_id) if s.student_no}
    numbers = [no if no not in used else "" for _n, no, _u in new]
    added = store.roster.add_students(class_id, [n for n, _no, _u in new], numbers)
    for student, (_n, _no, uuid) in zip(added, new, strict=True):
        _adopt_uuid(store, "students", student.id, uuid)
    return {"classes_added": made_class, "students_added": len(added),
            "students_total": len(store.roster.students(class_id))}


def _adopt_uuid(store: Store, table: str, row_id: int, uuid: str | None) -> None:
    """Give a copied record the lead's UUID (unless some other record here already has it)."""
    if not uuid or table not in ("classes", "students"):
        return
    with store.db.transaction() as tx:
        if tx.execute(f"SELECT 1 FROM {table} WHERE uuid = ?", (uuid,)).fetchone() is None:
            tx.execute(f"UPDATE {table} SET uuid = ? WHERE id = ?", (uuid, row_id))


_FIELDS = {"classes": {"uuid": str, "name": str},
           "students": {"uuid": str, "class_uuid": str, "name": str, "student_no": str},
           "runs": {"uuid": str, "student_uuid": str, "lesson_id": str, "status": str,
                    "steps_total": int, "steps_passed": int, "started_at": (int, float),
                    "scores": list},
           # the class sessions (the implementation report's lessons); a kit older than
           # them sends none
           "sessions": {"uuid": str, "class_uuid": str, "class_name": str, "grade": int,
                        "started_at": (int, float), "class_hours": (int, float),
                        "lab_ids": list, "cross_disciplinary": bool}}
OPTIONAL_PARTS = ("sessions",)


def records_ok(data: object) -> bool:
    """Are these records (from another kit: untrusted shape) what export_records makes?"""
    if not isinstance(data, dict) or data.get("format") != FORMAT \
            or not isinstance(data.get("kit_id"), str):
        return False
    for part, fields in _FIELDS.items():
        items = data.get(part, [] if part in OPTIONAL_PARTS else None)
        if not isinstance(items, list):
            return False
        for item in items:
            if not isinstance(item, dict) or any(
                    not isinstance(item.get(k), t)
                    or (isinstance(item.get(k), bool) and t is not bool)
                    for k, t in fields.items()):
                return False
            if part == "sessions" and not all(isinstance(x, str) for x in item["lab_ids"]):
                return False
            if part == "runs" and not all(
                    isinstance(s, dict) and {"criterion", "source", "level", "max_level"}
                    <= set(s) for s in item["scores"]):
                return False
            if part == "runs" and not _measures_ok(item):
                return False
    return True


def _measures_ok(run: dict[str, Any]) -> bool:
    """A run's measures and lab id, which a kit older than them does not send."""
    measures = run.get("measures", {})
    return isinstance(run.get("project_id", ""), str) and isinstance(measures, dict) and all(
        isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool)
        for k, v in measures.items())


# ---- runs measured on other kits (the PE chart) ------------------------------------------------
def collected_measured_runs(collections: Iterable[dict[str, Any]], store: Store, class_id: int,
                            project_id: str) -> list[tuple[int, RecordedRun]]:
    """The (student id, run record) pairs of lab `project_id` that this kit's class
    `class_id` did on the other kits of the room, one per exercise the run is a record of.

    A child is theirs by UUID (the roster the lead copied) or, for a roster typed on the
    kit, by the same name in a class of the same name. Each run UUID counts once — collecting
    twice, or this kit's own records among the collections, adds nothing."""
    school_class = store.roster.get_class(class_id)
    students = store.roster.students(class_id)
    by_uuid = {store.identity.uuid("students", s.id): s.id for s in students}
    by_name = {name_key(s.name): s.id for s in students}
    own = store.kit_id
    seen = {r["uuid"] for r in store.db.query(
        "SELECT r.uuid FROM runs r JOIN students s ON s.id = r.student_id "
        "WHERE s.class_id = ?", (class_id,))}
    out: list[tuple[int, RecordedRun]] = []
    for coll in collections:
        if not isinstance(coll, dict) or not records_ok(coll) or coll["kit_id"] == own:
            continue
        class_names = {c["uuid"]: c["name"] for c in coll["classes"]}
        who: dict[str, int] = {}
        for st in coll["students"]:
            sid = by_uuid.get(st["uuid"])
            if sid is None and name_key(class_names.get(st["class_uuid"], "")) \
                    == name_key(school_class.name):
                sid = by_name.get(name_key(st["name"]))
            if sid is not None:
                who[st["uuid"]] = sid
        for run in coll["runs"]:
            if run.get("project_id", run["lesson_id"]) != project_id or run["uuid"] in seen \
                    or run["student_uuid"] not in who:
                continue
            seen.add(run["uuid"])
            for exercise in EXERCISES:
                rec = record_of(run.get("measures", {}), exercise, run_id=0,
                                started_at=float(run["started_at"]), kit=coll["kit_id"],
                                uuid=run["uuid"])
                if rec is not None:
                    out.append((who[run["student_uuid"]], rec))
    return out


# ---- the implementation report over the room ---------------------------------------------------
def room_report_records(collections: Iterable[dict[str, Any]], start: float, end: float
                        ) -> tuple[list[SessionRecord], list[RunRecord], list[ScoreRecord]]:
    """The collected kits' sessions, runs and teacher scores begun in [start, end), as the
    implementation report takes them (labkit/store/report.py merges them by UUID)."""
    sessions: list[SessionRecord] = []
    runs: list[RunRecord] = []
    scores: list[ScoreRecord] = []
    for coll in collections:
        if not isinstance(coll, dict) or not records_ok(coll):
            continue
        kit = coll["kit_id"]
        for s in coll.get("sessions", []):
            if start <= s["started_at"] < end:
                sessions.append(SessionRecord(
                    s["uuid"], kit, s["class_uuid"], s["class_name"], s["grade"],
                    float(s["started_at"]), float(s["class_hours"]), tuple(s["lab_ids"]),
                    s["cross_disciplinary"]))
        class_of = {st["uuid"]: st["class_uuid"] for st in coll["students"]}
        for r in coll["runs"]:
            if not start <= r["started_at"] < end or r["student_uuid"] not in class_of:
                continue
            runs.append(RunRecord(r["uuid"], kit, class_of[r["student_uuid"]],
                                  r["student_uuid"], r["lesson_id"], r["status"]))
            scores += [ScoreRecord(r["uuid"], sc["criterion"], sc["level"], sc["max_level"])
                       for sc in r["scores"] if sc["source"] == "teacher"]
    return sessions, runs, scores


# ---- the merged class export ------------------------------------------------------------------
CSV_COLUMNS = ("kit", "class", "student_no", "student", "lab", "status", "steps_passed",
               "steps_total", "started_at", "scores", "run_uuid")


def merge(collections: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per run over every kit's records, each run UUID once (first one kept)."""
    classes: dict[str, str] = {}
    students: dict[str, dict[str, Any]] = {}
    collections = [c for c in collections if isinstance(c, dict)]
    for coll in collections:
        for c in coll.get("classes", []):
            classes.setdefault(c["uuid"], c["name"])
        for s in coll.get("students", []):
            students.setdefault(s["uuid"], s)
    rows: dict[str, dict[str, Any]] = {}
    for coll in collections:
        for run in coll.get("runs", []):
            if run["uuid"] in rows:
                continue
            who = students.get(run["student_uuid"], {})
            scores = "; ".join(f"{s['criterion']} {s['source']} {s['level']}/{s['max_level']}"
                               for s in run.get("scores", []))
            rows[run["uuid"]] = {
                "kit": coll.get("kit_id", ""), "class": classes.get(who.get("class_uuid"), ""),
                "student_no": who.get("student_no", ""), "student": who.get("name", ""),
                "lab": run["lesson_id"], "status": run["status"],
                "steps_passed": run["steps_passed"], "steps_total": run["steps_total"],
                "started_at": run["started_at"], "scores": scores, "run_uuid": run["uuid"]}
    return sorted(rows.values(), key=lambda r: (r["class"], r["student_no"] == "",
                                                r["student_no"], r["student"],
                                                r["started_at"]))


def _csv_safe(value: object) -> object:
    """A cell a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def merged_csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_csv_safe(row[c]) for c in CSV_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")   # BOM: Excel opens UTF-8 Chinese
