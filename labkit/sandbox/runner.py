"""Run one student program in a process of its own and tell the page what happens.

    sandbox = Sandbox(link, data_dir=settings.data_dir)
    run = sandbox.start(source, Holder("program:7", "program", "李明"), on_event=print)
    run.wait()      # run.result: {"type": "exit", "code": 0, "reason": "done", ...}

The program's source is written to `main.py` in a fresh temporary folder that is the
program's working directory and is removed afterwards; it never appears on a command line.
`boot.py` shuts the doors in the child before the program runs (see its docstring); this side
keeps the wall-clock limit, reads stdout and stderr line by line (cut at `Limits.output_bytes`,
the rest drained and dropped, so a flood cannot fill the kit's memory), stops the program on
request, and names why it ended:

    done          exit code 0
    error         an exception or a non-zero exit code
    time_limit    the wall-clock limit or the CPU limit
    memory_limit  the address-space limit (MemoryError)
    refused       the sandbox refused something (a socket, ctypes)
    stopped       stopped from the page, or the pins were taken over
    killed        ended by a signal nobody here sent
    sandbox_error the child could not be prepared
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

from labkit.drivers.pins import Holder
from labkit.sandbox import boot
from labkit.sandbox.limits import Limits

log = logging.getLogger(__name__)

BOOT = Path(boot.__file__).resolve()
PACKAGE_ROOT = BOOT.parents[2]
STUDENT_USERS = ("labkit-student", "nobody")
MAX_SOURCE_BYTES = 256 * 1024

Event = dict[str, Any]


def student_user() -> tuple[int, int, str] | None:
    """The unprivileged (uid, gid, name) programs run as when the kit runs as root."""
    for name in STUDENT_USERS:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid, name
    return None


def interpreter_paths() -> list[str]:
    """Folders the program's process must be able to read: Python, its packages, labkit."""
    found = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, PACKAGE_ROOT)}
    found.update(os.path.realpath(p) for p in sys.path if p and os.path.isdir(p))
    return sorted(found)


def hidden(paths: list[Path], expose: list[str]) -> list[str]:
    """The folders to cover, except any that holds Python or labkit (a checkout's data dir)."""
    out = []
    for path in paths:
        real = os.path.realpath(path)
        if not any(e == real or e.startswith(real + os.sep) for e in expose):
            out.append(real)
    return out



KILL_AGAIN_SECONDS = 1.0


def _group_runs(pgid: int) -> bool:
    """Whether a process of group `pgid` still runs (zombies, already dead, do not count)."""
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False

class SandboxError(Exception):
    """The program could not be started (a bad source, no unprivileged user)."""


class ProgramRun:
    """One running (or finished) program: its events, its exit, a way to stop it."""

    _ids = itertools.count(1)

    def __init__(self, sandbox: "Sandbox", source: str, holder: Holder,
                 on_event: Callable[[Event], Any] | None, owner: int | None = None) -> None:
        self.id = next(self._ids)
        self.sandbox = sandbox
        self.source = source
        self.holder = holder
        self.owner = owner          # the student whose program it is (their /learn projects)
        self.limits = sandbox.limits
        self.on_event = on_event
        self.events: list[Event] = []
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        #: called (from the emitting thread, under the run's lock) after each new event;
        #: must only schedule work, e.g. wake an event loop
        self.watchers: set[Callable[[], None]] = set()
        self.protection: dict[str, Any] = {}
        self.result: Event | None = None
        self.started_at = time.monotonic()
        self._stop_reason: str | None = None
        self._timed_out = False
        self._output = 0
        self._truncated = False
        self._finished = threading.Event()
        self.proc: subprocess.Popen[bytes] | None = None
        self.workdir: Path | None = None

    # ---- events ---------------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        with self.lock:
            event = {"seq": len(self.events) + 1, **event}
            self.events.append(event)
            self._changed.notify_all()
            for watcher in list(self.watchers):
                watcher()
            if self.on_event is not None:
                try:
                    self.on_event(event)
                except Exception:
                    log.exception("a run's event listener failed")

    def events_after(self, seq: int, timeout: float | None = None) -> list[Event]:
        """Events after number `seq`, waiting up to `timeout` for one if there are none."""
        with self._changed:
            if len(self.events) <= seq and timeout:
                self._changed.wait(timeout)
            return self.events[seq:]

    @property
    def running(self) -> bool:
        return not self._finished.is_set()

    def wait(self, timeout: float | None = None) -> Event | None:
        self._finished.wait(timeout)
        return self.result

    # ---- life -----------------------------------------------------------------------------
    def _start(self) -> None:
        sb = self.sandbox
        self.workdir = Path(tempfile.mkdtemp(prefix="labkit-program-", dir=sb.work_root))
        main = self.workdir / "main.py"
        main.write_text(self.source, encoding="utf-8")
        if sb.drop is not None:
            uid, gid, _name = sb.drop
            os.chown(self.workdir, uid, gid)
            os.chown(main, uid, gid)
        expose = interpreter_paths()
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        cfg = {"limits": self.limits.as_dict(), "kit_fd": child.fileno(),
               "package_root": str(PACKAGE_ROOT),
               "hide": hidden(sb.hide, expose), "expose": expose,
               "network_namespace": sb.network_namespace,
               "uid": sb.drop[0] if sb.drop else None, "gid": sb.drop[1] if sb.drop else None}
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
               "PYTHONIOENCODING": "utf-8", "PYTHONDONTWRITEBYTECODE": "1",
               "LABKIT_SANDBOX": json.dumps(cfg)}
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-u", str(BOOT)], stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.workdir, env=env,
                pass_fds=(child.fileno(),), start_new_session=True, close_fds=True)
        except OSError:
            parent.close()
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise
        finally:
            child.close()
        self.session = sb.link.serve(parent, self.holder, owner=self.owner,
                                     on_preempt=lambda: self.stop("stopped"),
                                     on_hello=self._hello)
        self.emit({"type": "start", "limits": {"seconds": self.limits.wall_seconds,
                                               "memory_mb": self.limits.memory_bytes >> 20}})
        readers = [threading.Thread(target=self._read, args=(stream, name), daemon=True)
                   for stream, name in ((self.proc.stdout, "stdout"),
                                        (self.proc.stderr, "stderr"))]
        for reader in readers:
            reader.start()
        threading.Thread(target=self._watch, args=(readers,), name=f"labkit-run-{self.id}",
                         daemon=True).start()

    def _hello(self, report: dict[str, Any]) -> None:
        self.protection = {k: report.get(k) for k in
                           ("network", "filesystem", "writes", "landlock", "user", "uid",
                            "no_new_privs", "limits")}
        self.emit({"type": "protection", **self.protection})

    def _read(self, stream: Any, name: str) -> None:
        pending = b""
        fd = stream.fileno()
        while True:
            try:
                chunk = os.read(fd, 8192)
            except OSError:
                chunk = b""
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._line(name, line)
            if len(pending) > self.limits.line_chars * 4:
                self._line(name, pending)
                pending = b""
        if pending:
            self._line(name, pending)
        stream.close()

    def _line(self, name: str, raw: bytes) -> None:
        with self.lock:
            if self._truncated:
                return
            self._output += len(raw) + 1
            if self._output > self.limits.output_bytes:
                self._truncated = True
                self.emit({"type": "truncated", "bytes": self.limits.output_bytes})
                return
        text = raw.decode("utf-8", "replace")
        if len(text) > self.limits.line_chars:
            text = text[: self.limits.line_chars] + " …"
        self.emit({"type": name, "text": text})

    def _watch(self, readers: list[threading.Thread]) -> None:
        assert self.proc is not None
        try:
            self.proc.wait(timeout=self.limits.wall_seconds)
        except subprocess.TimeoutExpired:
            self._timed_out = True
            self._kill()
            self.proc.wait()
        self._kill()        # whatever the program left behind in its process group
        for reader in readers:
            reader.join(timeout=5)
        self.session.close()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
        code = self.proc.returncode
        self.result = {"type": "exit", "code": code, "reason": self._reason(code),
                       "seconds": round(time.monotonic() - self.started_at, 2),
                       "truncated": self._truncated, "protection": self.protection}
        # the run leaves the kit's running programs before anyone hears it has ended: a page
        # that runs again on the exit event must not be told another program is running
        self.sandbox._finished(self)
        self.emit(self.result)
        self._finished.set()

    def _reason(self, code: int) -> str:
        if self._stop_reason is not None:
            return self._stop_reason
        if self._timed_out or code in (-signal.SIGXCPU,):
            return "time_limit"
        if code == boot.EXIT_MEMORY:
            return "memory_limit"
        if code == boot.EXIT_REFUSED:
            return "refused"
        if code == boot.EXIT_SETUP:
            return "sandbox_error"
        if code == 0:
            return "done"
        return "error" if code > 0 else "killed"

    def _kill(self) -> None:
        """SIGKILL the program's whole process group, again until nothing of it runs: a
        process that was forking while the group was killed can leave a child that the
        first signal missed (a fork bomb does nothing else)."""
        if self.proc is None:
            return
        deadline = time.monotonic() + KILL_AGAIN_SECONDS
        while True:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                return
            if not _group_runs(self.proc.pid) or time.monotonic() > deadline:
                return
            time.sleep(0.01)

    def stop(self, reason: str = "stopped") -> None:
        """End the program now (from the page, or because the pins were taken over)."""
        if self._finished.is_set():
            return
        with self.lock:
            if self._stop_reason is None:
                self._stop_reason = reason
        self._kill()


class Sandbox:
    """Starts student programs; one at a time per kit (`max_running`).

    link        the kit's side (`KitLink`): the program's pins, camera and speech
    limits      `Limits` for every program
    hide        folders the program must not see (the kit's data dir)
    work_root   where the programs' temporary folders are made (default: the system's)
    network_namespace  False: keep the kit's network namespace and rely on the socket guard
                (what a kernel without namespaces gets; the tests of that fallback use it)
    """

    def __init__(self, link: Any, *, limits: Limits | None = None,
                 hide: list[os.PathLike[str] | str] | tuple[()] = (),
                 work_root: os.PathLike[str] | str | None = None, max_running: int = 1,
                 network_namespace: bool = True) -> None:
        self.link = link
        self.limits = limits or Limits()
        self.hide = [Path(p) for p in hide]
        self.work_root = str(work_root) if work_root is not None else None
        self.max_running = max_running
        self.network_namespace = network_namespace
        self.drop = student_user() if os.geteuid() == 0 else None
        if os.geteuid() == 0 and self.drop is None:
            raise SandboxError("no unprivileged user to run programs as (nobody)")
        self._lock = threading.Lock()
        self.running: dict[int, ProgramRun] = {}

    def start(self, source: str, holder: Holder,
              on_event: Callable[[Event], Any] | None = None,
              owner: int | None = None) -> ProgramRun:
        if not isinstance(source, str) or len(source.encode("utf-8")) > MAX_SOURCE_BYTES:
            raise SandboxError("the program is too long")
        with self._lock:
            if len(self.running) >= self.max_running:
                raise SandboxBusy(next(iter(self.running.values())))
            run = ProgramRun(self, source, holder, on_event, owner)
            self.running[run.id] = run
        try:
            run._start()
        except BaseException:
            with self._lock:
                self.running.pop(run.id, None)
            raise
        return run

    def _finished(self, run: ProgramRun) -> None:
        with self._lock:
            self.running.pop(run.id, None)

    def close(self) -> None:
        self.stop_all()

    def stop_all(self) -> None:
        with self._lock:
            runs = list(self.running.values())
        for run in runs:
            run.stop()
        for run in runs:
            run.wait(10)


class SandboxBusy(SandboxError):
    """Another program is running on this kit."""

    def __init__(self, run: ProgramRun) -> None:
        super().__init__("another program is running")
        self.run = run
