"""A program reads the kit's sensors (`sensor(name)`) and runs its vision tasks
(`Camera("kit").detect(task)`) through the kit; unknown names are refused with the list."""

from __future__ import annotations

from typing import Any

from tests.unit.sandbox.test_kit_services import out, run


def test_a_program_reads_every_kind_of_sensor_through_the_kit(runtime: Any) -> None:
    runtime.bench.apply({"device": "light", "value": 0.25})
    runtime.bench.apply({"device": "temperature", "celsius": 31})
    runtime.bench.apply({"device": "distance", "value": 0.5})
    runtime.bench.apply({"device": "motion", "value": True})
    program_run, result = run(runtime, (
        "from labkit.program import sensor\n"
        "for name in ('light', 'soil', 'temperature', 'distance', 'motion', 'button'):\n"
        "    print(name, sensor(name))\n"
        "sensor('led')\n"))
    assert result["reason"] == "error"
    lines = dict(line.split(" ", 1) for line in out(program_run))
    assert float(lines["light"]) == 0.25
    assert 0.0 <= float(lines["soil"]) <= 1.0
    assert abs(float(lines["temperature"]) - 31) < 0.5
    assert abs(float(lines["distance"]) - 0.5) < 0.01
    assert lines["motion"] == "True" and lines["button"] == "False"
    last = out(program_run, "stderr")[-1]       # an output is not a sensor: the list says which are
    assert "KitError" in last and "light" in last and "temperature" in last


def test_a_program_runs_a_vision_task_and_an_unknown_one_is_refused(runtime: Any) -> None:
    program_run, result = run(runtime, (
        "from labkit.program import Camera\n"
        "camera = Camera('kit')\n"
        "seen = camera.detect('shapes')\n"
        "print(type(seen.count).__name__, type(seen.label).__name__, seen.present == (seen.count > 0))\n"
        "print(camera.detect('colour', colour='red').count >= 0)\n"
        "camera.detect('x_ray')\n"))
    assert result["reason"] == "error"
    assert out(program_run) == ["int str True", "True"]
    last = out(program_run, "stderr")[-1]
    assert "KitError" in last and "hands" in last and "colour" in last
