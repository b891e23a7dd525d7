"""Teacher sessions are server-side and revocable: sign-out, a PIN change (web or CLI) and two
idle hours end them — a cookie copied before that no longer works (issue 11 § 7)."""

from __future__ import annotations

import subprocess
from typing import Any

from tests.helpers import LABKIT, REPO, labkit_env
from tests.security.web_helpers import PIN, browser, school, store_of, teacher

NEW_PIN = "97531864"


def _copy(app: Any, client: Any) -> Any:
    """Another browser holding a copy of `client`'s session cookie (and its CSRF token)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    thief.environ_base.update(client.environ_base)
    return thief


def _is_teacher(client: Any) -> bool:
    return client.get("/teacher/classes/1").status_code == 200


def test_the_cookie_copied_before_logout_no_longer_works(app: Any) -> None:
    school(app)
    boss = teacher(app)
    thief = _copy(app, boss)
    assert _is_teacher(thief)
    assert boss.post("/teacher/logout").status_code == 302
    assert not _is_teacher(boss) and not _is_teacher(thief)
    r = thief.post("/teacher/classes", data={"name": "三班"})
    assert r.status_code == 401 and len(store_of(app).roster.classes()) == 1


def test_a_pin_change_on_the_page_ends_every_other_session(app: Any) -> None:
    school(app)
    boss, other = teacher(app), teacher(app)
    thief = _copy(app, boss)
    r = boss.post("/teacher/pin", data={"current": PIN, "pin": NEW_PIN, "confirm": NEW_PIN})
    assert r.status_code == 302
    assert _is_teacher(boss)                      # the browser that changed it gets a new one
    assert not _is_teacher(other) and not _is_teacher(thief)
    assert store_of(app).pin.verify(NEW_PIN)


def test_a_wrong_current_pin_changes_nothing(app: Any) -> None:
    school(app)
    boss = teacher(app)
    r = boss.post("/teacher/pin", data={"current": "11112222", "pin": NEW_PIN, "confirm": NEW_PIN})
    assert r.status_code == 400 and store_of(app).pin.verify(PIN) and _is_teacher(boss)


def test_set_pin_in_a_shell_ends_the_sessions(app: Any, settings: Any) -> None:
    school(app)
    boss = teacher(app)
    thief = _copy(app, boss)
    done = subprocess.run(LABKIT + ["teacher", "set-pin", "--stdin"], input=NEW_PIN + "\n",
                          env=labkit_env(settings.data_dir), cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not _is_teacher(boss) and not _is_teacher(thief)
    assert teacher(app, NEW_PIN) is not None


def test_two_idle_hours_end_a_teacher_session(app: Any) -> None:
    school(app)
    boss = teacher(app)
    db = store_of(app).db
    with db.transaction() as tx:    # an hour and 59 minutes without a request: still signed in
        tx.execute("UPDATE web_sessions SET last_seen = last_seen - 7140, "
                   "created_at = created_at - 7140")
    assert _is_teacher(boss)
    with db.transaction() as tx:    # two hours and a minute: signed out
        tx.execute("UPDATE web_sessions SET last_seen = last_seen - 7260")
    assert not _is_teacher(boss)
    assert db.one("SELECT COUNT(*) FROM web_sessions WHERE role = 'teacher'")[0] == 0


def test_a_forged_or_old_style_cookie_is_not_a_teacher(app: Any) -> None:
    import time

    school(app)
    client = browser(app)
    with client.session_transaction() as s:   # what the old signed cookie carried
        s["teacher_until"] = time.time() + 3600
        s["teacher"] = "made-up-token"
    assert not _is_teacher(client)


def test_the_database_holds_no_usable_token(app: Any) -> None:
    boss = teacher(app)
    with boss.session_transaction() as s:
        token = s["teacher"]
    rows = store_of(app).db.query("SELECT token_hash FROM web_sessions")
    assert rows and all(token not in r[0] for r in rows)
