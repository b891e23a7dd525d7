"""The runner on a kit runtime in this process: rules over time, and the pin lease."""

from __future__ import annotations

import time
from typing import Any, Callable

from labkit.drivers.pins import Holder
from labkit.pipeline.runner import PipelineRunner
from labkit.pipeline.spec import parse


def wait_for(test: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not test():
        time.sleep(0.02)
    return test()


def test_a_rule_held_for_a_while_waters_only_after_it(runtime: Any) -> None:
    spec = parse("""
name: thirsty
blocks:
  - {id: soil, block: sensor, device: soil}
  - {id: dry, block: compare, input: soil, test: "value < 0.3"}
  - {id: still_dry, block: held, input: dry, seconds: 0.6}
  - {id: water, block: pump, input: still_dry}
""", wiring=runtime.wiring)
    pump = runtime.factory.pin(22)
    runner = PipelineRunner(runtime, spec).start()
    try:
        runtime.bench.apply({"device": "soil", "value": 0.1})
        t0 = time.monotonic()
        assert wait_for(lambda: runner.values.get("dry") is True)
        # dry, but not for long enough yet (unless this thread was kept waiting that long)
        assert pump.state == 0 or time.monotonic() - t0 >= 0.6
        assert wait_for(lambda: pump.state == 1)
        assert time.monotonic() - t0 >= 0.6
        runtime.bench.apply({"device": "soil", "value": 0.7})
        assert wait_for(lambda: pump.state == 0)
    finally:
        runner.stop()
    assert runtime.pins.describe() is None


def test_a_lab_taking_the_kit_over_stops_the_pipeline_and_keeps_its_own_outputs(
        runtime: Any) -> None:
    spec = parse("""
name: lamp
blocks:
  - {id: press, block: button}
  - {id: flip, block: toggle, input: press}
  - {id: lamp, block: led, input: flip}
""", wiring=runtime.wiring)
    led = runtime.factory.pin(17)
    runner = PipelineRunner(runtime, spec, owner="小明").start()
    assert runtime.pins.describe()["name"] == "小明"
    runtime.bench.apply({"device": "button", "action": "click"})
    assert wait_for(lambda: led.state == 1)
    lab = runtime.pins.acquire(Holder("lab:5", "lab", "李明"), takeover=True)
    try:
        runtime.kit.led.on()                          # the lab drives the LED now
        assert runner.stopped.wait(5)
        assert led.state == 1 and runtime.pins.holder.id == "lab:5"
        runtime.bench.apply({"device": "button", "action": "click"})
        time.sleep(0.3)
        assert led.state == 1                          # the pipeline no longer reacts
    finally:
        lab.release()


def test_a_block_that_cannot_be_built_says_why_and_leaves_the_pins_free(runtime: Any) -> None:
    from labkit.errors import LabkitError

    for block, words in (("{id: mine, block: teachable, input: cam, project: p_nothing}",
                          "no teachable project p_nothing"),
                         ("{id: words, block: command_words, input: mic}",
                          "No saved command words")):
        source = "{id: mic, block: microphone}" if "mic" in block else "{id: cam, block: camera}"
        spec = parse(f"name: x\nblocks:\n  - {source}\n  - {block}\n", wiring=runtime.wiring)
        try:
            PipelineRunner(runtime, spec).start()
        except LabkitError as exc:
            assert words in exc.one_line()
        else:
            raise AssertionError(f"{block} started without what it needs")
        assert runtime.pins.describe() is None


def test_rules_read_what_their_input_gives() -> None:
    from labkit.pipeline.runner import _Compare, _Label, _Toggle

    spec = parse("""
name: gestures
blocks:
  - {id: cam, block: camera}
  - {id: hands, block: hands, input: cam}
  - {id: fist, block: label, input: hands, is: fist}
  - {id: sure, block: compare, input: hands, test: "score >= 0.8"}
  - {id: flip, block: toggle, input: fist}
""")
    fist, sure, flip = (_Label(spec.block("fist")), _Compare(spec.block("sure")),
                        _Toggle(spec.block("flip")))
    seen = {"count": 1, "present": True, "label": "fist", "score": 0.9}
    assert fist.read(seen) is True and sure.read(seen) is True
    assert fist.read({**seen, "label": "open"}) is False
    assert sure.read({**seen, "score": 0.5}) is False and sure.read(None) is False
    assert [flip.read(v) for v in (True, True, False, True, False)] == [True, True, True,
                                                                        False, False]
