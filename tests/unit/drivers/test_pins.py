"""The pin lease: one holder of the outputs; a soft holder gives way; taking over is explicit."""

from __future__ import annotations

from typing import Any

import pytest

from labkit.drivers.pins import Holder, Pins, PinsBusy

LAB = Holder("lab:1", "lab", "李明", progress=lambda: {"done": 3, "total": 3})


def test_a_holder_blocks_others_until_released() -> None:
    pins = Pins()
    lease = pins.acquire(LAB)
    assert pins.holder is LAB and lease.active
    with pytest.raises(PinsBusy) as exc:
        pins.acquire(Holder("learn", "learn"))
    assert exc.value.code == "pins_busy" and exc.value.holder is LAB
    assert "李明" in exc.value.message
    with pytest.raises(PinsBusy):
        pins.check("audio")
    pins.check("lab:1")   # the holder itself may drive
    lease.release()
    assert pins.holder is None and not lease.active
    with pins.lease(Holder("learn", "learn")):
        assert pins.holder.id == "learn"
    assert pins.holder is None


def test_the_same_holder_nests_and_a_soft_holder_gives_way() -> None:
    pins = Pins()
    stopped: list[str] = []
    idle = pins.acquire(Holder("idle", "idle", soft=True), on_preempt=lambda: stopped.append("idle"))
    assert pins.describe() is None            # the idle demo is not "in use" for the page
    lab = pins.acquire(LAB)                     # no takeover needed over a soft holder
    assert stopped == ["idle"] and not idle.active and pins.holder is LAB
    again = pins.acquire(LAB)
    again.release()
    assert pins.holder is LAB                   # still held: the outer lease
    lab.release()
    assert pins.holder is None
    idle.release()                              # releasing a preempted lease is harmless
    assert pins.holder is None


def test_takeover_preempts_the_holder_and_says_so() -> None:
    events: list[Any] = []

    class Bus:
        def publish(self, topic: str, data: Any) -> None:
            events.append((topic, data))

    pins = Pins(Bus())
    preempted: list[bool] = []
    old = pins.acquire(LAB, on_preempt=lambda: preempted.append(True))
    assert pins.describe() == {"id": "lab:1", "kind": "lab", "name": "李明", "done": 3,
                               "total": 3}
    new = pins.acquire(Holder("console", "console"), takeover=True)
    assert preempted == [True] and not old.active and new.active
    old.release()                               # the stopped lab letting go late changes nothing
    assert pins.holder.id == "console"
    assert [e[1]["holder"]["id"] if e[1]["holder"] else None for e in events] == \
        ["lab:1", "console"]


def test_a_takeover_waits_for_a_change_under_way_and_no_change_comes_after_it() -> None:
    import threading
    import time

    pins = Pins()
    lease = pins.acquire(Holder("pipeline:door", "pipeline", ""))
    order: list[str] = []
    writing = threading.Event()

    def slow_change() -> None:
        writing.set()
        time.sleep(0.2)                  # a change of the outputs under way
        order.append("pipeline wrote")

    def take_over() -> None:
        writing.wait(5)
        pins.acquire(Holder("lab:1", "lab", "李明"), takeover=True)
        order.append("lab took over")

    thief = threading.Thread(target=take_over)
    thief.start()
    assert lease.drive(slow_change) is True
    thief.join(5)
    assert order == ["pipeline wrote", "lab took over"]
    assert lease.drive(lambda: order.append("late write")) is False
    assert order[-1] == "lab took over"
