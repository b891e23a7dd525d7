"""The Ansible playbook: syntax, and a real run on localhost into a temp prefix.

Second run changes nothing (idempotent); a newer wheelhouse updates and keeps the previous
version; labkit_rollback_to switches back. System parts (user, units, service) are off here
(`labkit_manage_system: false`); the venv/pip/symlink steps are the real ones, with the
stand-in wheels of fakewheel.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.provision.fakewheel import build_wheelhouse

REPO = Path(__file__).resolve().parents[3]
PLAYBOOK_DIR = REPO / "images" / "ansible"
ANSIBLE = Path(sys.executable).with_name("ansible-playbook")

needs_ansible = pytest.mark.skipif(not ANSIBLE.exists(),
                                   reason="ansible-core is a dev tool: pip install ansible-core")


def _run(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("PIP_") and k != "PYTHONPATH"}    # as on a kit
    env = {**clean, "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-tmp"),
           "ANSIBLE_HOME": str(tmp / "ansible-home"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_CONFIG": str(PLAYBOOK_DIR / "ansible.cfg")}
    return subprocess.run([str(ANSIBLE), *args], cwd=PLAYBOOK_DIR, env=env, text=True,
                          capture_output=True, timeout=300)


def _recap(out: str) -> dict[str, int]:
    m = re.search(r"localhost\s+:\s+(.*)", out)
    assert m, out[-2000:]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}


@needs_ansible
def test_syntax_check(tmp_path: Path) -> None:
    proc = _run(["-i", str(PLAYBOOK_DIR / "inventory.example.ini"), "site.yml",
                 "--syntax-check"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_ansible
@pytest.mark.slow
@pytest.mark.timeout(900)      # four plays; ~1 min on an idle machine, several on a busy one
def test_local_run_is_idempotent_updates_and_rolls_back(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.ini"
    inventory.write_text(f"[kits]\nlocalhost ansible_connection=local "
                         f"ansible_python_interpreter={sys.executable}\n")
    prefix = tmp_path / "opt"
    base_python = getattr(sys, "_base_executable", sys.executable)
    variables = {
        "labkit_wheelhouse_local": str(build_wheelhouse(tmp_path / "wh1", "0.1.0")),
        "labkit_prefix": str(prefix), "labkit_data": str(tmp_path / "data"),
        "labkit_python": base_python, "labkit_extras": "", "labkit_become": False,
        "labkit_manage_system": False, "labkit_fetch_models": False,
        # the test's own pip installs into a venv without pip: seconds instead of ensurepip
        "labkit_venv_args": "--without-pip",
        "labkit_pip": f"{sys.executable} -m pip --python {{{{ labkit_venv }}}}/bin/python",
    }

    def play(**extra: object) -> dict[str, int]:
        vars_file = tmp_path / "vars.json"
        vars_file.write_text(json.dumps({**variables, **extra}))
        proc = _run(["-i", str(inventory), "site.yml", "-e", f"@{vars_file}"], tmp_path)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        return _recap(proc.stdout)

    first = play()
    assert first["changed"] > 0 and first["failed"] == 0
    assert os.readlink(prefix / "current") == "venvs/0.1.0"
    kit_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([str(prefix / "current" / "bin" / "labkit"), "version"],
                         env=kit_env, capture_output=True, text=True, timeout=30).stdout
    assert out.strip() == "0.1.0"

    assert play()["changed"] == 0                      # nothing to do the second time

    variables["labkit_wheelhouse_local"] = str(build_wheelhouse(tmp_path / "wh2", "0.2.0"))
    assert play()["changed"] > 0
    assert os.readlink(prefix / "current") == "venvs/0.2.0"
    assert os.readlink(prefix / "previous") == "venvs/0.1.0"
    assert sorted(p.name for p in (prefix / "wheelhouse").iterdir()) == ["0.1.0", "0.2.0"]

    play(labkit_rollback_to="0.1.0")
    assert os.readlink(prefix / "current") == "venvs/0.1.0"
