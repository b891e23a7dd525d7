"""Numbered schema migrations. Append, never edit a released one.

Migration N brings `PRAGMA user_version` from N-1 to N. Each is a list of single statements run
inside one transaction together with the version bump (sqlite3's `executescript` would commit
on its own, which is exactly what a migration must not do).

What is stored, on purpose: names of classes and students and nothing else personal; what
happened in each lab run (steps passed, times, reflection text, rubric levels); references to
files a student chose to save. No frames, no audio, no birthdays, no ids from other systems.
"""

from __future__ import annotations

# A random (version 4) UUID in SQL: randomblob() is SQLite's cryptographic generator. Used to
# fill existing rows in a migration and, through triggers, every row inserted without one.
NEW_UUID = ("(lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "
            "substr(lower(hex(randomblob(2))), 2) || '-' || "
            "substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) "
            "|| '-' || lower(hex(randomblob(6))))")

# Records that travel between kits (a fleet merges many kits' portfolios): each gets a UUID.
TRAVELLING_TABLES = ("classes", "students", "runs", "artefacts")


def _uuid_column(table: str) -> list[str]:
    """Add `uuid` to `table`, fill it for existing rows, keep it unique, fill it for new ones.
    (SQLite's ADD COLUMN takes no expression default, hence the trigger.)"""
    return [
        f"ALTER TABLE {table} ADD COLUMN uuid TEXT",
        f"UPDATE {table} SET uuid = {NEW_UUID} WHERE uuid IS NULL",
        f"CREATE UNIQUE INDEX {table}_by_uuid ON {table}(uuid)",
        f"""CREATE TRIGGER {table}_new_uuid AFTER INSERT ON {table} WHEN NEW.uuid IS NULL
            BEGIN UPDATE {table} SET uuid = {NEW_UUID} WHERE rowid = NEW.rowid; END""",
    ]


MIGRATIONS: list[list[str]] = [
    # 1 — roster, runs, portfolio, kit settings
    [
        """CREATE TABLE classes (
            id          INTEGER PRIMARY KEY,
            name        TEXT NOT NULL,
            name_key    TEXT NOT NULL UNIQUE,
            created_at  REAL NOT NULL
        )""",
        """CREATE TABLE students (
            id          INTEGER PRIMARY KEY,
            class_id    INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
            name        TEXT NOT NULL,
            name_key    TEXT NOT NULL,
            created_at  REAL NOT NULL,
            UNIQUE (class_id, name_key)
        )""",
        "CREATE INDEX students_by_class ON students(class_id)",
        """CREATE TABLE runs (
            id          INTEGER PRIMARY KEY,
            student_id  INTEGER NOT NULL REFERENCES students(id) ON DELETE CASCADE,
            lesson_id   TEXT NOT NULL,
            project_id  TEXT NOT NULL,
            title_zh    TEXT NOT NULL DEFAULT '',
            title_en    TEXT NOT NULL DEFAULT '',
            steps_total INTEGER NOT NULL CHECK (steps_total >= 0),
            started_at  REAL NOT NULL,
            ended_at    REAL,
            status      TEXT NOT NULL CHECK (status IN
                            ('running', 'finished', 'stopped', 'interrupted'))
        )""",
        "CREATE INDEX runs_by_student ON runs(student_id, started_at)",
        """CREATE TABLE step_results (
            run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            step_id     TEXT NOT NULL,
            check_id    TEXT NOT NULL,
            passed_at   REAL NOT NULL,
            detail      TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (run_id, step_id)
        )""",
        """CREATE TABLE reflections (
            run_id      INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
            question    TEXT NOT NULL,
            answer      TEXT NOT NULL,
            created_at  REAL NOT NULL
        )""",
        """CREATE TABLE scores (
            run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            criterion   TEXT NOT NULL,
            source      TEXT NOT NULL CHECK (source IN ('self', 'teacher')),
            level       INTEGER NOT NULL CHECK (level >= 1),
            max_level   INTEGER NOT NULL CHECK (max_level >= level),
            updated_at  REAL NOT NULL,
            PRIMARY KEY (run_id, criterion, source)
        )""",
        """CREATE TABLE artefacts (
            id          INTEGER PRIMARY KEY,
            run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            kind        TEXT NOT NULL CHECK (kind IN ('sample', 'model')),
            name        TEXT NOT NULL,
            path        TEXT NOT NULL,
            sha256      TEXT NOT NULL,
            bytes       INTEGER NOT NULL,
            created_at  REAL NOT NULL
        )""",
        "CREATE INDEX artefacts_by_run ON artefacts(run_id)",
        """CREATE TABLE kit_settings (
            key         TEXT PRIMARY KEY,
            value       TEXT NOT NULL
        )""",
    ],
]

MIGRATIONS.append(
    # 2 — who is signed in (server-side, revocable sessions), wrong-PIN counters, how students
    # prove who they are (a class code or a picture password)
    [
        """CREATE TABLE web_sessions (
            token_hash  TEXT PRIMARY KEY,
            role        TEXT NOT NULL CHECK (role IN ('teacher', 'student')),
            student_id  INTEGER REFERENCES students(id) ON DELETE CASCADE,
            verified    INTEGER NOT NULL DEFAULT 0,
            created_at  REAL NOT NULL,
            last_seen   REAL NOT NULL
        )""",
        "CREATE INDEX web_sessions_by_student ON web_sessions(student_id)",
        """CREATE TABLE session_grants (
            token_hash  TEXT NOT NULL REFERENCES web_sessions(token_hash) ON DELETE CASCADE,
            kind        TEXT NOT NULL,
            item        TEXT NOT NULL,
            PRIMARY KEY (token_hash, kind, item)
        )""",
        """CREATE TABLE pin_attempts (
            counter      TEXT PRIMARY KEY,
            failures     INTEGER NOT NULL,
            locked_until REAL NOT NULL
        )""",
        """CREATE TABLE class_sign_in (
            class_id    INTEGER PRIMARY KEY REFERENCES classes(id) ON DELETE CASCADE,
            mode        TEXT NOT NULL CHECK (mode IN ('name', 'pictures', 'code')),
            code        TEXT NOT NULL DEFAULT ''
        )""",
        """CREATE TABLE student_pictures (
            student_id   INTEGER PRIMARY KEY REFERENCES students(id) ON DELETE CASCADE,
            pictures     TEXT NOT NULL
        )""",
    ])

MIGRATIONS.append(
    # kit identity: the kit's own id (made once, never changed) and a UUID on every record
    # that may travel to another kit (store/identity.py)
    [
        f"INSERT OR IGNORE INTO kit_settings (key, value) VALUES ('kit_id', {NEW_UUID})",
        *(statement for table in TRAVELLING_TABLES for statement in _uuid_column(table)),
    ])

MIGRATIONS.append(
    # the school's student number (学号): kept from an imported class list, unique in a class
    # when given, and the order a class list is shown and exported in; the teacher's comment
    # (评语) on a student's lab, next to the rubric scores
    [
        "ALTER TABLE students ADD COLUMN student_no TEXT NOT NULL DEFAULT ''",
        "CREATE UNIQUE INDEX students_by_number ON students(class_id, student_no) "
        "WHERE student_no != ''",
        """CREATE TABLE grading_comments (
            student_id  INTEGER NOT NULL REFERENCES students(id) ON DELETE CASCADE,
            lesson_id   TEXT NOT NULL,
            comment     TEXT NOT NULL,
            updated_at  REAL NOT NULL,
            PRIMARY KEY (student_id, lesson_id)
        )""",
    ])

MIGRATIONS.append(
    # the classroom (store/classroom.py): each class's school grade, labs switched off for a
    # class, and class sessions — lessons given to a class, which the implementation report
    # counts. A session keeps the class's name, UUID and grade as they were, so the hours
    # delivered stay counted when the class is later removed (a new term).
    [
        """CREATE TABLE class_grades (
            class_id    INTEGER PRIMARY KEY REFERENCES classes(id) ON DELETE CASCADE,
            grade       INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 12)
        )""",
        """CREATE TABLE class_labs_off (
            class_id    INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
            lesson_id   TEXT NOT NULL,
            PRIMARY KEY (class_id, lesson_id)
        )""",
        """CREATE TABLE class_sessions (
            id          INTEGER PRIMARY KEY,
            class_id    INTEGER REFERENCES classes(id) ON DELETE SET NULL,
            class_uuid  TEXT NOT NULL,
            class_name  TEXT NOT NULL,
            grade       INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 12),
            lab_ids     TEXT NOT NULL,
            class_hours REAL NOT NULL CHECK (class_hours > 0),
            cross_disciplinary INTEGER NOT NULL DEFAULT 0,
            started_at  REAL NOT NULL,
            ended_at    REAL
        )""",
        "CREATE UNIQUE INDEX class_sessions_one_open ON class_sessions(class_id) "
        "WHERE ended_at IS NULL",
        "CREATE INDEX class_sessions_by_start ON class_sessions(started_at)",
        *_uuid_column("class_sessions"),
    ])

MIGRATIONS.append(
    # a picture and a colour per child, from fixed sets, chosen by the teacher (store/looks.py);
    # the pick-your-name screen lists a class in the teacher's order (学号, else import order)
    [
        """CREATE TABLE student_looks (
            student_id  INTEGER PRIMARY KEY REFERENCES students(id) ON DELETE CASCADE,
            picture     TEXT NOT NULL DEFAULT '',
            colour      TEXT NOT NULL DEFAULT ''
        )""",
    ])

MIGRATIONS.append(
    # what a run measured, as its lab's `record:` declares (a PE run's reps and movements):
    # the highest value of each named signal, kept when the run ends (store/runs.py)
    [
        """CREATE TABLE run_measures (
            run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            name        TEXT NOT NULL,
            value       REAL NOT NULL,
            PRIMARY KEY (run_id, name)
        )""",
    ])
