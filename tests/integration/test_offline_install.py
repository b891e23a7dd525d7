"""Offline install: a wheelhouse for this machine from the x86_64 lock, then labkit installed
with `pip --no-index --find-links` into a fresh venv; `labkit doctor --json` works and the page
serves. The wheelhouse is cached in .cache/wheelhouse-host/ (rebuilt when the lock changes),
so only the first run downloads; every run installs from scratch.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from labkit import __version__
from labkit.provision.bundle import verify_folder, write_sums
from labkit.provision.update import clean_pip_env, free_port, wait_healthy
from labkit.provision.wheelhouse import build_labkit_wheel, download_lock

REPO = Path(__file__).resolve().parents[2]
LOCK = Path(os.environ.get("LABKIT_OFFLINE_LOCK", REPO / "requirements" / "lock-x86_64-cp311.txt"))
CACHE = REPO / ".cache" / "wheelhouse-host"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]   # a full install, 2-10 min


def host_wheelhouse() -> Path:
    if platform.machine() != "x86_64" or sys.version_info[:2] != (3, 11):
        pytest.skip("the x86_64 cp311 lock installs only on x86_64 Python 3.11")
    if not LOCK.exists():
        pytest.skip(f"{LOCK} is made by scripts/lock.sh")
    CACHE.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    stamp = CACHE / ".lock-sha256"
    if not stamp.exists() or stamp.read_text() != digest:
        download_lock(LOCK, CACHE)
        stamp.write_text(digest)
    build_labkit_wheel(REPO, CACHE)
    write_sums(CACHE)
    verify_folder(CACHE)
    return CACHE


def test_offline_install_doctor_and_page(tmp_path: Path) -> None:
    wheelhouse = host_wheelhouse()
    venv = tmp_path / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}   # not the checkout
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--no-index", "--find-links", str(wheelhouse), "--no-cache-dir", "--quiet",
         "--no-compile", "--",
         f"labkit=={__version__}"],
        env=clean_pip_env(env), capture_output=True, text=True, timeout=1800)
    assert pip.returncode == 0, pip.stderr[-3000:]

    run_env = {**env, "LABKIT_DATA": str(tmp_path / "data"), "LABKIT_HARDWARE": "sim",
               "LABKIT_CAMERA": "synthetic", "LABKIT_MICROPHONE": "simulated",
               "HOME": str(tmp_path / "home")}
    models = os.environ.get("LABKIT_TEST_MODELS")      # the test model store (make test)
    if models and Path(models).is_dir():
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "models").symlink_to(models)
    labkit = str(venv / "bin" / "labkit")
    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import labkit; print(labkit.__file__)"], cwd=tmp_path,
                           env=run_env, capture_output=True, text=True, timeout=120)
    assert str(venv) in where.stdout, where.stdout + where.stderr       # the installed copy

    doctor = subprocess.run([labkit, "doctor", "--json"], cwd=tmp_path, env=run_env,
                            capture_output=True, text=True, timeout=300)
    assert doctor.stdout.strip(), doctor.stderr[-3000:]
    report = json.loads(doctor.stdout)
    assert report["version"] == __version__
    names = {f["name"] for f in report["findings"]}
    assert {"python packages", "first boot", "clock"} <= names
    broken = [f["name"] for f in report["findings"] if f["required"] and not f["ok"]]
    # without the test model store the only thing missing may be the models themselves
    assert set(broken) <= (set() if models else {"models"}), report["findings"]

    port = free_port()
    server = subprocess.Popen([labkit, "serve", "--host", "127.0.0.1", "--port", str(port)],
                              cwd=tmp_path, env=run_env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        why = wait_healthy(f"http://127.0.0.1:{port}/healthz", 180,
                           alive=lambda: server.poll() is None)
        assert why == "", why
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as page:
            assert page.status == 200
            assert "labkit" in page.read().decode("utf-8", "replace").lower()
    finally:
        server.terminate()
        try:
            server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
