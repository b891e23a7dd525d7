"""Hostile student programs: each is stopped or refused with a clear reason, and the kit (this
process, its pins) keeps working — the next program runs normally.

The programs run through the real sandbox (`labkit.sandbox.runner`) against a simulated kit:
a SimPinFactory, a lease book and the kit's side of the socket. When the tests run as root,
programs run as the unprivileged user, which is proved from inside the program.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any, Iterator

import pytest

from labkit.drivers.gpio import SimPinFactory
from labkit.drivers.pins import Holder, Pins
from labkit.sandbox.limits import MB, Limits
from labkit.sandbox.link import KitLink
from labkit.sandbox.runner import ProgramRun, Sandbox

STUDENT = Holder("program:1", "program", "小明")


class Kit:
    def __init__(self, data_dir: Path, **sandbox: Any) -> None:
        self.factory = SimPinFactory()
        self.pins = Pins()
        self.link = KitLink(self.factory, self.pins)
        limits = Limits(wall_seconds=20, cpu_seconds=20, output_bytes=16 * 1024,
                        memory_bytes=512 * MB, processes=32)
        self.sandbox = Sandbox(self.link, limits=limits, hide=[data_dir], **sandbox)

    def run(self, source: str, **limits: Any) -> tuple[ProgramRun, dict[str, Any]]:
        if limits:
            self.sandbox.limits = self.sandbox.limits.with_(**limits)
        run = self.sandbox.start(source, STUDENT)
        result = run.wait(60)
        assert result is not None, "the program was not stopped"
        return run, result

    def still_serves(self) -> None:
        """The kit is alive: a normal program runs, drives pin 17 and exits cleanly."""
        run, result = self.run("from gpiozero import LED\nLED(17).on()\nprint('ok')",
                               wall_seconds=20)
        assert result["reason"] == "done", text(run, "stderr")
        assert text(run, "stdout") == ["ok"]


def text(run: ProgramRun, stream: str) -> list[str]:
    return [e["text"] for e in run.events if e["type"] == stream]


@pytest.fixture
def secret_data(data_dir: Path) -> Path:
    (data_dir / "secret_key").write_text("s3cret-key")
    (data_dir / "secret_key").chmod(0o600)
    (data_dir / "labkit.sqlite3").write_bytes(b"SQLite format 3\x00 roster")
    data_dir.chmod(0o700)
    return data_dir


@pytest.fixture
def kit(secret_data: Path) -> Iterator[Kit]:
    k = Kit(secret_data)
    yield k
    k.sandbox.stop_all()
    k.link.close()


def test_an_infinite_loop_is_stopped_at_the_time_limit(kit: Kit) -> None:
    run, result = kit.run("while True:\n    pass\n", wall_seconds=2)
    assert result["reason"] == "time_limit"
    assert result["code"] == -signal.SIGKILL
    kit.still_serves()


def test_a_cpu_bound_program_hits_the_cpu_limit(kit: Kit) -> None:
    run, result = kit.run("while True:\n    pass\n", cpu_seconds=1, wall_seconds=30)
    assert result["reason"] == "time_limit"
    assert result["code"] == -signal.SIGXCPU


def test_a_memory_bomb_is_stopped_and_the_kit_lives(kit: Kit) -> None:
    run, result = kit.run("data = bytearray(4 * 1024 ** 3)\nprint('allocated')")
    assert result["reason"] == "memory_limit"
    assert "allocated" not in text(run, "stdout")
    assert "MemoryError" in text(run, "stderr")[-1]
    kit.still_serves()


def test_a_fork_bomb_is_refused_by_the_process_limit(kit: Kit) -> None:
    source = ("import os, time\n"
              "while True:\n"
              "    if os.fork() == 0:\n"
              "        time.sleep(60)\n"
              "        os._exit(0)\n")
    run, result = kit.run(source)
    assert result["reason"] == "error"
    assert text(run, "stderr")[-1].startswith("BlockingIOError: [Errno 11]")
    # nothing of it is left: its whole process group was killed
    assert run.proc is not None
    assert live_members(run.proc.pid) == []
    kit.still_serves()


def live_members(pgid: int) -> list[int]:
    """Processes of group `pgid` that still run (killed ones may linger as zombies until
    their new parent reaps them; those run nothing)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            out.append(int(entry.name))
    return out


def test_writing_outside_its_folder_is_refused(kit: Kit, secret_data: Path) -> None:
    target = secret_data / "evil.txt"
    source = (f"open('own.txt', 'w').write('mine')\nprint(open('own.txt').read())\n"
              f"open({str(target)!r}, 'w').write('x')\n")
    run, result = kit.run(source)
    assert text(run, "stdout") == ["mine"]                    # its own folder is writable
    assert result["reason"] == "error"
    assert text(run, "stderr")[-1].split(":")[0] in ("PermissionError", "FileNotFoundError")
    assert not target.exists()


def test_a_file_larger_than_the_limit_is_refused(kit: Kit) -> None:
    run, result = kit.run("open('big.bin', 'wb').write(b'x' * (20 * 1024 * 1024))",
                          file_bytes=1 * MB)
    assert result["reason"] == "error"
    assert "File too large" in text(run, "stderr")[-1]


def test_the_working_folder_is_removed_afterwards(kit: Kit) -> None:
    run, result = kit.run("import os\nprint(os.getcwd())\nopen('x', 'w').write('x')")
    assert result["reason"] == "done"
    assert run.workdir is not None and not run.workdir.exists()


def test_no_network_and_the_protection_is_reported(kit: Kit) -> None:
    connect = ("import socket\n"
               "try:\n"
               "    socket.create_connection(('1.1.1.1', 80), timeout=3)\n"
               "    print('connected')\n"
               "except OSError as exc:\n"
               "    print('refused', type(exc).__name__)\n"
               "try:\n"
               "    socket.getaddrinfo('example.com', 80)\n"
               "    print('resolved')\n"
               "except OSError as exc:\n"
               "    print('refused', type(exc).__name__)\n")
    run, result = kit.run(connect)
    out = text(run, "stdout")
    assert len(out) == 2 and all(line.startswith("refused") for line in out), out
    assert result["protection"]["network"] in ("namespace", "guard")
    assert result["protection"]["no_new_privs"] is True
    assert any(e["type"] == "protection" for e in run.events)


def test_without_a_network_namespace_the_socket_guard_refuses(secret_data: Path) -> None:
    kit = Kit(secret_data, network_namespace=False)
    try:
        run, result = kit.run("import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=3)")
        assert result["protection"]["network"] == "guard"
        assert result["reason"] == "refused"
        assert "no network" in text(run, "stderr")[-1]
        run, result = kit.run("import socket\nsocket.getaddrinfo('example.com', 80)")
        assert result["reason"] == "refused"
    finally:
        kit.link.close()


def test_the_kits_secret_key_and_database_cannot_be_read(kit: Kit, secret_data: Path) -> None:
    source = "\n".join(
        f"try:\n    open({str(secret_data / name)!r}, 'rb').read()\n    print('read {name}')\n"
        f"except OSError as exc:\n    print('refused {name}', type(exc).__name__)"
        for name in ("secret_key", "labkit.sqlite3"))
    source += "\nimport os\nprint('uid', os.getuid(), os.geteuid())\n"
    source += ("try:\n    os.setuid(0)\n    print('became root')\n"
               "except PermissionError:\n    print('no way back')\n")
    run, result = kit.run(source)
    out = text(run, "stdout")
    assert out[0].startswith("refused secret_key") and out[1].startswith("refused labkit.sqlite3")
    if os.geteuid() == 0:
        # the tests run as root: the program ran as the unprivileged user, for good
        uid = int(out[2].split()[1])
        assert uid != 0 and out[2] == f"uid {uid} {uid}"
        assert result["protection"]["user"] == "unprivileged"
        assert out[3] == "no way back"


def test_ctypes_cannot_poke_memory(kit: Kit) -> None:
    run, result = kit.run("import ctypes\nctypes.string_at(id(1), 8)")
    assert result["reason"] == "refused"
    assert "ctypes" in text(run, "stderr")[-1]


def test_a_flood_of_output_is_cut_and_the_kit_lives(kit: Kit) -> None:
    run, result = kit.run("for i in range(100000):\n    print('x' * 100)\nprint('end')")
    assert result["truncated"] is True
    kept = sum(len(t) + 1 for t in text(run, "stdout"))
    assert kept <= kit.sandbox.limits.output_bytes
    assert any(e["type"] == "truncated" for e in run.events)
    assert result["reason"] == "done"
    kit.still_serves()


def test_a_very_long_line_is_cut(kit: Kit) -> None:
    run, result = kit.run("print('y' * 50000)")
    out = text(run, "stdout")
    assert len(out[0]) <= kit.sandbox.limits.line_chars + 2


def test_pins_of_a_lab_in_progress_are_refused_with_the_lease_message(kit: Kit) -> None:
    lab = kit.pins.acquire(Holder("lab:42", "lab", "李明"))
    try:
        run, result = kit.run("from gpiozero import LED\nLED(17).on()")
        assert result["reason"] == "error"
        last = text(run, "stderr")[-1]
        assert last.startswith("labkit.sandbox.kitpins.KitError")
        assert "李明's lab is running" in last
        assert kit.pins.holder is not None and kit.pins.holder.id == "lab:42"   # untouched
        assert kit.factory.pin(17).state == 0
    finally:
        lab.release()
    kit.still_serves()


def test_a_second_program_waits_its_turn(kit: Kit) -> None:
    from labkit.sandbox.runner import SandboxBusy

    first = kit.sandbox.start("import time\ntime.sleep(30)", STUDENT)
    try:
        with pytest.raises(SandboxBusy):
            kit.sandbox.start("print(1)", STUDENT)
    finally:
        first.stop()
    assert first.wait(20)["reason"] == "stopped"


def test_a_teacher_taking_over_the_pins_stops_the_program(kit: Kit) -> None:
    run = kit.sandbox.start("from gpiozero import LED\nimport time\nled = LED(17)\nled.on()\n"
                            "print('holding', flush=True)\ntime.sleep(60)", STUDENT)
    seen = 0
    while run.running and "holding" not in [e.get("text") for e in run.events[:seen]]:
        seen = len(run.events_after(0, timeout=1))
    assert kit.pins.holder is not None and kit.pins.holder.kind == "program"
    assert kit.factory.pin(17).state == 1
    console = kit.pins.acquire(Holder("console", "console", "老师"), takeover=True)
    try:
        assert run.wait(20)["reason"] == "stopped"
        assert kit.pins.holder is not None and kit.pins.holder.id == "console"
    finally:
        console.release()
