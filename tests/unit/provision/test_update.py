"""`labkit update`: offline install beside the running version, health check, rollback.

Uses tiny stand-in labkit wheels (tests/unit/provision/fakewheel.py) in real venvs, so the
venv/pip/symlink/database steps are the real ones and the run stays within seconds per venv.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from labkit.config import Settings
from labkit.provision import checks
from labkit.provision.update import Layout, update
from labkit.store import Store
from tests.unit.provision.fakewheel import build_wheelhouse

pytestmark = pytest.mark.slow          # four venvs with pip: ~20-40 s on a busy machine


def _students(data_dir: Path) -> list[str]:
    store = Store(data_dir)
    try:
        return [r["name"] for r in store.db.query("SELECT name FROM students ORDER BY id")]
    finally:
        store.close()


def test_update_switches_only_to_a_healthy_version_and_rolls_back(tmp_path: Path,
                                                                   data_dir: Path) -> None:
    layout = Layout(tmp_path / "opt" / "labkit")
    store = Store(data_dir)
    cls = store.roster.add_class("三年级二班")
    store.roster.add_student(cls.id, "王芳")
    store.close()
    env = dict(os.environ)
    kw = dict(layout=layout, data_dir=data_dir, extras="", env=env, health_timeout=30)

    first = update(build_wheelhouse(tmp_path / "wh1", "0.1.0"), **kw)
    assert (first.status, first.old_version, first.new_version) == ("updated", None, "0.1.0")
    assert layout.version_of(layout.current) == "0.1.0"
    assert (layout.current / "bin" / "labkit").exists()

    good = update(build_wheelhouse(tmp_path / "wh2", "0.2.0"), **kw)
    assert (good.status, good.old_version) == ("updated", "0.1.0")
    assert layout.version_of(layout.current) == "0.2.0"
    assert layout.version_of(layout.previous) == "0.1.0"
    assert good.backup and Path(good.backup).exists()
    assert _students(data_dir) == ["王芳"]                       # data kept

    bad = update(build_wheelhouse(tmp_path / "wh3", "0.3.0", behaviour="crashes"), **kw)
    assert bad.status == "rejected" and "labkit serve" in bad.problems[0]
    assert "cannot import name" in bad.problems[0]
    assert layout.version_of(layout.current) == "0.2.0"
    assert not layout.venv("0.3.0").exists()
    finding = checks.check_last_update(Settings(data_dir=data_dir))
    assert not finding.ok and "0.3.0 failed its health check" in finding.detail

    sick = update(build_wheelhouse(tmp_path / "wh4", "0.4.0", behaviour="doctor-fails"), **kw)
    assert sick.status == "rejected" and "missing: cv2" in sick.problems[0]

    restarts: list[str] = []

    def restart() -> None:
        restarts.append(layout.version_of(layout.current) or "")
        if len(restarts) == 1:                                  # the new version "migrates"
            store = Store(data_dir)
            store.db.query("DELETE FROM students")
            store.close()

    rolled = update(build_wheelhouse(tmp_path / "wh5", "0.5.0"), **kw, restart=restart,
                    live_check=lambda: "http://127.0.0.1:8080/healthz did not answer")
    assert rolled.status == "rolled_back"
    assert restarts == ["0.5.0", "0.2.0"]
    assert layout.version_of(layout.current) == "0.2.0"
    assert _students(data_dir) == ["王芳"]                       # database from before
    assert "did not start" in checks.check_last_update(Settings(data_dir=data_dir)).detail

    again = update(build_wheelhouse(tmp_path / "wh6", "0.2.0"), **kw)
    assert again.status == "unchanged"
    # only what can still be switched to stays on the SD card
    assert sorted(p.name for p in layout.venvs.iterdir()) == ["0.1.0", "0.2.0", "0.5.0"]
    state = json.loads((data_dir / "provision" / "update.json").read_text())
    assert state["status"] == "rolled_back"


def test_update_cli_refuses_a_damaged_stick(tmp_path: Path, data_dir: Path) -> None:
    from click.testing import CliRunner

    from labkit.cli import main

    folder = build_wheelhouse(tmp_path / "wh", "0.2.0")
    wheel = next(folder.glob("*.whl"))
    wheel.write_bytes(wheel.read_bytes()[:-10])
    result = CliRunner().invoke(main, ["update", str(folder), "--prefix",
                                       str(tmp_path / "opt"), "--service", "none"])
    assert result.exit_code == 2
    assert "damaged" in result.output and "sha256sum -c" in result.output


def test_the_wheelhouse_pins_win_over_newer_files_for_the_other_python(tmp_path: Path) -> None:
    """One wheelhouse holds the cp311 and cp313 sets; the constraints file keeps the lock."""
    import platform
    import sys

    from labkit.provision.bundle import write_sums
    from labkit.provision.update import build_venv
    from tests.unit.provision.fakewheel import build_wheel

    folder = tmp_path / "wh"
    build_wheel(folder, "0.2.0", requires=("helper",))
    build_wheel(folder, "1.0", name="helper")
    build_wheel(folder, "2.0", name="helper")       # locked for the other Python only
    tag = "%d%d" % sys.version_info[:2]
    (folder / f"constraints-{platform.machine()}-cp{tag}.txt").write_text("helper==1.0\n")
    write_sums(folder)
    assert "constraints-" in (folder / "SHA256SUMS").read_text()
    venv = tmp_path / "venv"
    build_venv(venv, folder, "labkit==0.2.0", python=getattr(sys, "_base_executable",
                                                             sys.executable),
               system_site=False, env=dict(os.environ))
    installed = sorted(p.name for p in (venv / "lib").glob("python*/site-packages/*.dist-info"))
    assert installed == ["helper-1.0.dist-info", "labkit-0.2.0.dist-info"]
