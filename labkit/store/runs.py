"""Lab runs and what the portfolio (成长档案) keeps about each one.

A run is one student doing one lab once: when it started and ended, which steps passed and
when, the reflection they wrote, the self-assessment and teacher rubric levels, and the files
they chose to keep. This is process evaluation — the record of what happened — not one score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from labkit import steady
from labkit.store.db import Database
from labkit.store.problems import N_, Problem

REFLECTION_MAX = 2000
STATUSES = ("running", "finished", "stopped", "interrupted")
SCORE_SOURCES = ("self", "teacher")


@dataclass(frozen=True)
class StepResult:
    step_id: str
    check_id: str
    passed_at: float
    detail: str = ""


@dataclass(frozen=True)
class Score:
    criterion: str
    source: str
    level: int
    max_level: int


@dataclass(frozen=True)
class Artefact:
    id: int
    run_id: int
    kind: str
    name: str
    path: str
    sha256: str
    bytes: int
    created_at: float


@dataclass
class Run:
    id: int
    student_id: int
    lesson_id: str
    project_id: str
    title_zh: str
    title_en: str
    steps_total: int
    started_at: float
    ended_at: float | None
    status: str
    steps: list[StepResult] = field(default_factory=list)
    reflection_question: str = ""
    reflection: str = ""
    scores: list[Score] = field(default_factory=list)
    artefacts: list[Artefact] = field(default_factory=list)
    #: what the run measured, as its lab's `record:` declares (e.g. reps, attempts)
    measures: dict[str, float] = field(default_factory=dict)

    @property
    def steps_passed(self) -> int:
        return len(self.steps)

    @property
    def seconds(self) -> float:
        """Time spent: start to end, or to the last step passed if the run was cut off."""
        end = self.ended_at
        if end is None:
            end = max((s.passed_at for s in self.steps), default=self.started_at)
        return max(0.0, end - self.started_at)

    def title(self, lang: str) -> str:
        return (self.title_en if lang == "en" else self.title_zh) or self.title_zh or \
            self.title_en or self.lesson_id

    def scores_by(self, source: str) -> dict[str, Score]:
        return {s.criterion: s for s in self.scores if s.source == source}


def _run_from(row: object) -> Run:
    r = row  # sqlite3.Row
    return Run(r["id"], r["student_id"], r["lesson_id"], r["project_id"],  # type: ignore[index]
               r["title_zh"], r["title_en"], r["steps_total"], r["started_at"],  # type: ignore
               r["ended_at"], r["status"])  # type: ignore[index]


class Runs:
    """Start, advance and close runs; read them back with everything attached."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def start(self, student_id: int, *, lesson_id: str, project_id: str, steps_total: int,
              title_zh: str = "", title_en: str = "") -> int:
        with self.db.transaction() as tx:
            if not tx.execute("SELECT 1 FROM students WHERE id = ?", (student_id,)).fetchone():
                raise Problem(N_("There is no student number %(student_id)s."),
                              fix=N_("Pick your name from the class list again."),
                              code="need_student", student_id=student_id)
            cur = tx.execute(
                "INSERT INTO runs (student_id, lesson_id, project_id, title_zh, title_en, "
                "steps_total, started_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'running')",
                (student_id, lesson_id, project_id, title_zh, title_en, steps_total, steady.now()))
        return int(cur.lastrowid or 0)

    def record_step(self, run_id: int, step_id: str, check_id: str, detail: str = "",
                    at: float | None = None) -> bool:
        """Mark a step passed (once; later passes keep the first time). True if new."""
        with self.db.transaction() as tx:
            cur = tx.execute(
                "INSERT OR IGNORE INTO step_results (run_id, step_id, check_id, passed_at, "
                "detail) VALUES (?, ?, ?, ?, ?)",
                (run_id, step_id, check_id, steady.now() if at is None else at, detail))
        return cur.rowcount == 1

    def end(self, run_id: int, status: str = "stopped") -> None:
        """Close a run that is still running (a finished run stays finished)."""
        if status not in STATUSES[1:]:
            raise ValueError(f"bad end status {status!r}")
        with self.db.transaction() as tx:
            tx.execute("UPDATE runs SET status = ?, ended_at = ? WHERE id = ? AND "
                       "status = 'running'", (status, steady.now(), run_id))

    def record_measures(self, run_id: int, measures: Mapping[str, float]) -> None:
        """Keep what a run measured (a later call for the same name replaces it)."""
        with self.db.transaction() as tx:
            tx.executemany("INSERT OR REPLACE INTO run_measures (run_id, name, value) "
                           "VALUES (?, ?, ?)",
                           [(run_id, str(k), float(v)) for k, v in measures.items()])

    def finish(self, run_id: int, *, question: str, answer: str,
               self_scores: Mapping[str, tuple[int, int]]) -> None:
        """Save the reflection and self-assessment and close the run — all in one commit."""
        answer = (answer or "").strip()
        if not answer:
            raise Problem(N_("Write a sentence or two to answer the question."),
                          fix=N_("There are no wrong answers: say what you saw or what surprised "
                                 "you."), code="bad_input")
        if len(answer) > REFLECTION_MAX:
            raise Problem(N_("The answer is too long (%(length)s characters; at most %(max)s)."),
                          fix=N_("Shorten it a little."), code="bad_input", length=len(answer),
                          max=REFLECTION_MAX)
        now = steady.now()
        with self.db.transaction() as tx:
            row = tx.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise Problem(N_("There is no run number %(run_id)s."), code="not_found",
                              run_id=run_id)
            if row["status"] == "finished":
                raise Problem(N_("This lab run is already finished."),
                              fix=N_("Start the lab again to do another run."), code="conflict")
            tx.execute("INSERT OR REPLACE INTO reflections (run_id, question, answer, created_at) "
                       "VALUES (?, ?, ?, ?)", (run_id, question, answer, now))
            self._write_scores(tx, run_id, "self", self_scores, now)
            tx.execute("UPDATE runs SET status = 'finished', ended_at = COALESCE(ended_at, ?) "
                       "WHERE id = ?", (now, run_id))

    def set_scores(self, run_id: int, source: str,
                   scores: Mapping[str, tuple[int, int]]) -> None:
        """Replace one source's rubric levels ({criterion: (level, max_level)})."""
        with self.db.transaction() as tx:
            if not tx.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone():
                raise Problem(N_("There is no run number %(run_id)s."), code="not_found",
                              run_id=run_id)
            self._write_scores(tx, run_id, source, scores, steady.now())

    @staticmethod
    def _write_scores(tx: object, run_id: int, source: str,
                      scores: Mapping[str, tuple[int, int]], now: float) -> None:
        if source not in SCORE_SOURCES:
            raise ValueError(f"bad score source {source!r}")
        for criterion, (level, max_level) in scores.items():
            if not (isinstance(level, int) and isinstance(max_level, int)
                    and 1 <= level <= max_level):
                raise Problem(N_("Pick one of the levels for \"%(criterion)s\"."),
                              code="bad_input", criterion=criterion)
            tx.execute(  # type: ignore[attr-defined]
                "INSERT OR REPLACE INTO scores (run_id, criterion, source, level, max_level, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, criterion, source, level, max_level, now))

    def interrupt_dangling(self) -> int:
        """Runs left 'running' by a crash or power cut become 'interrupted' (kept, not lost)."""
        with self.db.transaction() as tx:
            cur = tx.execute(
                "UPDATE runs SET status = 'interrupted', ended_at = COALESCE((SELECT "
                "MAX(passed_at) FROM step_results WHERE run_id = runs.id), started_at) "
                "WHERE status = 'running'")
        return cur.rowcount

    # ---- reading --------------------------------------------------------------------------
    def get(self, run_id: int) -> Run:
        row = self.db.one("SELECT * FROM runs WHERE id = ?", (run_id,))
        if row is None:
            raise Problem(N_("There is no run number %(run_id)s."), code="not_found",
                          run_id=run_id)
        return self._attach([_run_from(row)])[0]

    def for_student(self, student_id: int) -> list[Run]:
        rows = self.db.query("SELECT * FROM runs WHERE student_id = ? ORDER BY started_at DESC, "
                             "id DESC", (student_id,))
        return self._attach([_run_from(r) for r in rows])

    def for_class(self, class_id: int) -> list[Run]:
        rows = self.db.query("SELECT r.* FROM runs r JOIN students s ON s.id = r.student_id "
                             "WHERE s.class_id = ? ORDER BY r.started_at DESC, r.id DESC",
                             (class_id,))
        return self._attach([_run_from(r) for r in rows])

    def _attach(self, runs: list[Run]) -> list[Run]:
        if not runs:
            return runs
        by_id = {r.id: r for r in runs}
        all_ids = list(by_id)
        for start in range(0, len(all_ids), 500):  # stay under SQLite's variable limit
            self._attach_chunk(by_id, all_ids[start:start + 500])
        return runs

    def _attach_chunk(self, by_id: dict[int, Run], ids: list[int]) -> None:
        marks = ",".join("?" * len(ids))
        for r in self.db.query(f"SELECT * FROM step_results WHERE run_id IN ({marks}) "
                               "ORDER BY passed_at", ids):
            by_id[r["run_id"]].steps.append(
                StepResult(r["step_id"], r["check_id"], r["passed_at"], r["detail"]))
        for r in self.db.query(f"SELECT * FROM run_measures WHERE run_id IN ({marks}) "
                               "ORDER BY name", ids):
            by_id[r["run_id"]].measures[r["name"]] = r["value"]
        for r in self.db.query(f"SELECT * FROM reflections WHERE run_id IN ({marks})", ids):
            by_id[r["run_id"]].reflection_question = r["question"]
            by_id[r["run_id"]].reflection = r["answer"]
        for r in self.db.query(f"SELECT * FROM scores WHERE run_id IN ({marks}) "
                               "ORDER BY criterion", ids):
            by_id[r["run_id"]].scores.append(
                Score(r["criterion"], r["source"], r["level"], r["max_level"]))
        for r in self.db.query(f"SELECT * FROM artefacts WHERE run_id IN ({marks}) ORDER BY id",
                               ids):
            by_id[r["run_id"]].artefacts.append(Artefact(
                r["id"], r["run_id"], r["kind"], r["name"], r["path"], r["sha256"], r["bytes"],
                r["created_at"]))
