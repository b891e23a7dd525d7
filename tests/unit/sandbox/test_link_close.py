"""A program's session is closed from two sides when the program ends — its own reader sees
the socket close, the sandbox's watcher closes it after the process exits. Whoever comes second
must not report the end before the pins are back and the kit has resumed."""

from __future__ import annotations

import socket
import threading
import time

from labkit.drivers.gpio import SimPinFactory
from labkit.drivers.pins import Holder, Pins
from labkit.sandbox.link import KitLink


def test_a_second_close_returns_only_once_the_kit_has_resumed() -> None:
    entered, resumed = threading.Event(), threading.Event()

    def on_release() -> None:
        entered.set()
        time.sleep(0.3)          # the kit resuming its idle demo takes a moment
        resumed.set()

    pins = Pins()
    link = KitLink(SimPinFactory(), pins, on_release=on_release)
    kit_end, program_end = socket.socketpair()
    holder = Holder("program:1", "program", "测试学生")
    session = link.serve(kit_end, holder)
    session.lease = pins.acquire(holder)
    program_end.close()                       # the program exits: its reader closes first
    assert entered.wait(5)
    session.close()                           # the watcher's close, while the reader's runs
    assert resumed.is_set()
    assert pins.holder is None
    session.join(timeout=5)
    link.close()
