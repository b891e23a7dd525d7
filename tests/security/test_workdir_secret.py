"""The server never works from the data dir's parent, and `secret_key` is owner-only from birth.

Rebuilt from the probe: `labkit serve` started from `$HOME` left relative paths (an imported
model's external data) resolving against `$HOME`, where `.local/share/labkit/secret_key` sits;
with the key a teacher session cookie could be forged.
"""

from __future__ import annotations

import os
import stat
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from labkit.fsutil import neutral_workdir, private_secret
from tests.helpers import LABKIT, free_port, labkit_env


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secret_is_created_owner_only_from_its_first_byte(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[tuple[str, int]] = []
    real_open = os.open

    def watching_open(path: Any, flags: int, mode: int = 0o777, *a: Any, **kw: Any) -> int:
        fd = real_open(path, flags, mode, *a, **kw)
        if flags & os.O_CREAT:
            created.append((str(path), stat.S_IMODE(os.fstat(fd).st_mode)))
        return fd

    old_umask = os.umask(0)          # the worst case: nothing masks the mode
    try:
        monkeypatch.setattr(os, "open", watching_open)
        key = private_secret(tmp_path / "secret_key", lambda: "k" * 64)
    finally:
        os.umask(old_umask)
        monkeypatch.undo()
    assert key == "k" * 64
    assert created, "the secret was not created through os.open"
    assert all(mode == 0o600 for _path, mode in created), created
    assert _mode(tmp_path / "secret_key") == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]


def test_an_existing_secret_with_loose_permissions_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    path.write_text("s" * 64)
    path.chmod(0o644)
    assert private_secret(path, lambda: "new" * 30) == "s" * 64
    assert _mode(path) == 0o600


def test_a_damaged_secret_is_replaced_and_racers_agree(tmp_path: Path) -> None:
    path = tmp_path / "secret_key"
    path.write_text("short")
    results: list[str] = []
    counter = iter(range(1000))
    lock = threading.Lock()

    def make() -> str:
        with lock:
            return f"{next(counter):064d}"

    threads = [threading.Thread(target=lambda: results.append(private_secret(path, make)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(results)) == 1 and len(results[0]) == 64
    assert path.read_text() == results[0] and _mode(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]


def test_the_web_app_keeps_its_key_owner_only(app: Any, settings: Any) -> None:
    path = settings.data_dir / "secret_key"
    assert _mode(path) == 0o600
    assert app.config["SECRET_KEY"] == path.read_text().strip()


def test_neutral_workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run = neutral_workdir(tmp_path / "data")
    assert Path.cwd() == run == (tmp_path / "data" / "run").resolve()
    assert _mode(run) == 0o700
    assert list(run.iterdir()) == []


@pytest.mark.slow
def test_serve_leaves_the_directory_it_was_started_from(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data = home / ".local" / "share" / "labkit"
    data.mkdir(parents=True)
    (home / "secret_key").write_text("a file in the start directory")
    port = free_port()
    env = labkit_env(Path(".local/share/labkit"), LABKIT_PORT=str(port), HOME=str(home))
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([*LABKIT, "serve"], cwd=str(home), env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        cwd = Path(os.readlink(f"/proc/{proc.pid}/cwd"))
        assert cwd == data.resolve() / "run"
        assert _mode(cwd) == 0o700
        # the relative LABKIT_DATA was pinned down before leaving: the data is where it was
        assert _mode(data / "secret_key") == 0o600
        assert not (cwd / ".local").exists()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
