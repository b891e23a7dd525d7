"""No battery clock: provisioning code measures durations monotonically and says when the
wall clock looks unset, without failing the kit."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from labkit.config import Settings
from labkit.doctor import report
from labkit.provision import checks, update


def test_clock_check_at_1970_is_a_note_not_a_failure(data_dir: Path) -> None:
    finding = checks.check_clock(Settings(data_dir=data_dir), now=3600.0)
    assert not finding.ok and not finding.required
    assert "1970-01-01" in finding.detail and finding.fix
    assert report([finding])["ok"]
    assert checks.check_clock(Settings(data_dir=data_dir), now=1.8e9).ok     # 2027


def test_health_wait_ignores_wall_clock_jumps(monkeypatch: pytest.MonkeyPatch) -> None:
    wall = itertools.count(2e9, -3e7)          # each reading a year earlier than the last
    monkeypatch.setattr(time, "time", lambda: next(wall))
    start = time.monotonic()
    why = update.wait_healthy("http://127.0.0.1:9/healthz", 1.0)
    elapsed = time.monotonic() - start
    assert "did not answer within 1 s" in why
    assert 0.9 <= elapsed < 10


def test_store_records_survive_a_clock_set_back(monkeypatch: pytest.MonkeyPatch,
                                                store: object) -> None:
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])
    kid = store.roster.add_student(store.roster.add_class("一班").id, "王芳")  # type: ignore[attr-defined]
    run_id = store.runs.start(kid.id, lesson_id="l", project_id="p", steps_total=1)  # type: ignore[attr-defined]
    now[0] -= 365 * 24 * 3600                  # network time arrives: a year earlier
    assert store.runs.record_step(run_id, "s", "c")  # type: ignore[attr-defined]
    store.runs.end(run_id)  # type: ignore[attr-defined]
    run = store.runs.get(run_id)  # type: ignore[attr-defined]
    assert run.status == "stopped" and [s.step_id for s in run.steps] == ["s"]
