"""Erasing a child's data everywhere, and samples that expire at the end of a term.

Why one module: a child's data lives in three places — the store (runs, step results, scores,
reflections, rows of kept files), the portfolio folder (the kept files) and /learn projects
(samples and the models trained on them). Erasing only one of them is how pictures of a child
outlive the child's place in the class. Exports are built in memory when downloaded and never
cached on the kit; the one copy kept of other kits' records (a lead kit's collected room
records, `labkit.fleet.state`) is passed in as `collected` and the child's runs leave it too.

    purge_student(store, projects, student_id, collected=RoomState(data_dir))
    set_samples_expiry(store, date(2027, 1, 20))        # end of term
    expire_samples(store, projects)                     # on start and once a day
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from labkit.store.problems import N_, Problem

log = logging.getLogger(__name__)

EXPIRY_KEY = "samples_expire_on"


@dataclass
class Purged:
    """What was erased (shown to the teacher and counted by the tests)."""

    runs: int = 0
    files: int = 0
    projects: int = 0
    collected_runs: int = 0


def purge_student(store: Any, projects: Any, student_id: int, *,
                  collected: Any = None) -> Purged:
    """Erase every run, kept file and /learn project of one student; keep their roster name.

    `collected` (a `labkit.fleet.state.RoomState`, or anything with its `forget_student`)
    also loses the child's runs collected from other kits."""
    student = store.roster.student_by_id(student_id)
    if student is None:
        raise Problem(N_("There is no student number %(student_id)s."), code="not_found",
                      student_id=student_id)
    collected_runs = 0
    if collected is not None:
        collected_runs = collected.forget_student(
            store.identity.uuid("students", student_id), student.name,
            store.roster.get_class(student.class_id).name)
    folder = store.artefacts.root / str(student_id)
    files = sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
    with store.db.transaction() as tx:
        runs = tx.execute("DELETE FROM runs WHERE student_id = ?", (student_id,)).rowcount
    store.artefacts.remove_files_of_student(student_id)
    removed = projects.delete_owned_by(student_id)
    done = Purged(runs=max(runs, 0), files=files, projects=removed,
                  collected_runs=collected_runs)
    log.info("purged student %d: %d runs, %d files, %d projects", student_id, done.runs,
             done.files, done.projects)
    return done


def find_student(store: Any, who: str) -> Any:
    """A student by number or by exact roster name (a name in two classes must be a number)."""
    who = who.strip()
    if who.isdigit():
        student = store.roster.student_by_id(int(who))
        if student is not None:
            return student
    matches = [s for c in store.roster.classes() for s in store.roster.students(c.id)
               if s.name == who]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise Problem(N_("%(count)s students are called %(name)s."), code="conflict",
                      fix=N_("Give the student's number instead (shown on the roster page)."),
                      count=len(matches), name=who)
    raise Problem(N_("There is no student called %(name)s."), code="not_found",
                  fix=N_("Give the name exactly as on the roster, or the student's number."),
                  name=who)


# ---- retention --------------------------------------------------------------------------------
def samples_expiry(store: Any) -> date | None:
    row = store.db.one("SELECT value FROM kit_settings WHERE key = ?", (EXPIRY_KEY,))
    if row is None:
        return None
    try:
        return date.fromisoformat(row["value"])
    except ValueError:
        return None


def set_samples_expiry(store: Any, when: date | str | None) -> date | None:
    """Samples saved before `when` are erased once that day has come (None: keep them)."""
    if isinstance(when, str):
        text = when.strip()
        if not text:
            when = None
        else:
            try:
                when = date.fromisoformat(text)
            except ValueError:
                raise Problem(N_("%(text)s is not a date like 2027-01-20."), code="bad_input",
                              text=text[:20]) from None
    with store.db.transaction() as tx:
        if when is None:
            tx.execute("DELETE FROM kit_settings WHERE key = ?", (EXPIRY_KEY,))
        else:
            tx.execute("INSERT OR REPLACE INTO kit_settings (key, value) VALUES (?, ?)",
                       (EXPIRY_KEY, when.isoformat()))
    return when


def expire_samples(store: Any, projects: Any, *, today: date | None = None) -> int:
    """Erase /learn projects and kept sample files saved before the expiry day, once it came.

    Returns how many projects and files were removed. Things saved on or after the expiry day
    (the next term's work) stay.
    """
    when = samples_expiry(store)
    today = today or date.today()
    if when is None or today < when:
        return 0
    cutoff = datetime(when.year, when.month, when.day).timestamp()
    removed = 0
    for project_id in projects.expired_before(cutoff):
        projects.delete(project_id)
        removed += 1
    rows = store.db.query("SELECT id, path FROM artefacts WHERE kind = 'sample' "
                          "AND created_at < ?", (cutoff,))
    for row in rows:
        path = store.artefacts.root / row["path"]
        path.unlink(missing_ok=True)
    if rows:
        with store.db.transaction() as tx:
            tx.executemany("DELETE FROM artefacts WHERE id = ?", [(r["id"],) for r in rows])
    removed += len(rows)
    if removed:
        log.info("retention: %d expired projects/samples erased (saved before %s)", removed,
                 when.isoformat())
    return removed
