"""`python my_program.py` from a terminal on the kit: the program connects to the kit's socket
(LABKIT_KIT_SOCKET) and drives the kit's pins, with edges coming back to it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from labkit.drivers.gpio import SimPinFactory
from labkit.drivers.pins import Holder, Pins
from labkit.sandbox.link import KitLink

ROOT = Path(__file__).resolve().parents[3]

PROGRAM = """\
import sys
import labkit.program                  # the kit's pins become gpiozero's default
from gpiozero import LED, Button

led = LED(17)
button = Button(26)
button.when_pressed = lambda: print("pressed", flush=True)
led.on()
print("on", led.value, flush=True)     # only now does the test press the button
sys.stdin.readline()                   # the test presses the button, then says go on
"""


@pytest.fixture
def kit() -> Iterator[tuple[KitLink, SimPinFactory, Pins, Path]]:
    factory, pins = SimPinFactory(), Pins()
    factory.pin(26).drive_high()           # the button's pull-up: released
    link = KitLink(factory, pins)
    folder = Path(tempfile.mkdtemp(prefix="lk-"))      # short: AF_UNIX paths are limited
    path = link.listen(folder / "kit.sock")
    yield link, factory, pins, path
    link.close()
    for p in folder.iterdir():
        p.unlink()
    folder.rmdir()


def start(program: Path, socket_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "LABKIT_KIT_SOCKET": str(socket_path), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(program)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_a_terminal_program_drives_the_kits_pins(kit: tuple, tmp_path: Path) -> None:
    link, factory, pins, path = kit
    program = tmp_path / "my_program.py"
    program.write_text(PROGRAM)
    proc = start(program, path)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline().strip() == "on 1", proc.stderr.read() if proc.stderr else ""
        assert factory.pin(17).state == 1                       # the kit's own pin moved
        assert pins.holder is not None and pins.holder.kind == "program"
        factory.pin(26).drive_low()                             # press the kit's button
        assert proc.stdout.readline().strip() == "pressed"
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.wait()
    link_sessions_closed(link)
    assert factory.pin(17).state == 0 and pins.holder is None   # handed back


def link_sessions_closed(link: KitLink) -> None:
    for session in list(link._sessions):
        session.join(timeout=10)


def test_a_terminal_program_without_the_kit_says_what_to_do(tmp_path: Path) -> None:
    program = tmp_path / "my_program.py"
    program.write_text("import labkit.program\n")
    proc = start(program, tmp_path / "nowhere.sock")
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "cannot reach the kit" in err and "LABKIT_KIT_SOCKET" in err


def test_a_lab_holding_the_pins_refuses_a_terminal_program(kit: tuple, tmp_path: Path) -> None:
    link, factory, pins, path = kit
    lease = pins.acquire(Holder("lab:1", "lab", "王芳"))
    program = tmp_path / "my_program.py"
    program.write_text("import labkit.program\nfrom gpiozero import LED\nLED(17).on()\n")
    try:
        proc = start(program, path)
        _out, err = proc.communicate(timeout=60)
    finally:
        lease.release()
    assert proc.returncode == 1
    assert "王芳's lab is running" in err.strip().splitlines()[-1]
