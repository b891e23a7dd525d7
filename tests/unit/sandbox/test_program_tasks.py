"""A program reads the kit's sensors (`sensor(name)`) and runs its vision tasks
(`Camera("kit").detect(task)`) through the kit; unknown names are refused with the list."""

from __future__ import annotations

from typing import Any

from tests.unit.sandbox.test_kit_services import out, run


def test_a_program_reads_the_sensors_and_runs_vision_tasks_through_the_kit(runtime: Any) -> None:
    runtime.bench.apply({"device": "light", "value": 0.25})
    runtime.bench.apply({"device": "temperature", "celsius": 31})
    runtime.bench.apply({"device": "distance", "value": 0.5})
    runtime.bench.apply({"device": "motion", "value": True})
    program_run, result = run(runtime, (
        "from labkit.program import Camera, sensor\n"
        "for name in ('light', 'soil', 'temperature', 'distance', 'motion', 'button'):\n"
        "    print(name, sensor(name))\n"
        "camera = Camera('kit')\n"
        "seen = camera.detect('shapes')\n"
        "print('shapes', type(seen.count).__name__, type(seen.label).__name__,"
        " seen.present == (seen.count > 0))\n"
        "print('red', camera.detect('colour', colour='red').count >= 0)\n"
        "for bad in (lambda: sensor('led'), lambda: camera.detect('x_ray'),\n"
        "            lambda: camera.detect('colour', colour='plaid')):\n"
        "    try:\n"
        "        bad()\n"
        "    except Exception as exc:\n"
        "        print('refused', type(exc).__name__, exc)\n"))
    assert result["reason"] == "done", out(program_run, "stderr")
    lines = out(program_run)
    values = dict(line.split(" ", 1) for line in lines[:6])
    assert float(values["light"]) == 0.25
    assert 0.0 <= float(values["soil"]) <= 1.0
    assert abs(float(values["temperature"]) - 31) < 0.5
    assert abs(float(values["distance"]) - 0.5) < 0.01
    assert values["motion"] == "True" and values["button"] == "False"
    assert lines[6:8] == ["shapes int str True", "red True"]
    # refused with the list of what there is: an output is not a sensor, an unknown task
    sensor_no, task_no, colour_no = lines[8:]
    assert sensor_no.startswith("refused KitError") and "temperature" in sensor_no
    assert "hands" in task_no and "colour" in task_no
    assert "red" in colour_no and "plaid" not in colour_no.split(":", 1)[-1]


def test_a_blocks_program_is_kept_with_its_workspace_and_bad_blocks_are_refused(
        tmp_path: Any) -> None:
    import pytest

    from labkit.errors import LabkitError
    from labkit.sandbox.programs import ProgramBook

    book = ProgramBook(tmp_path)
    workspace = {"blocks": {"languageVersion": 0, "blocks": [{"type": "labkit_led"}]}}
    saved = book.save(3, "积木", "led.on()\n", blocks=workspace)
    again = book.get(3, saved.id)
    assert again.blocks == workspace and again.summary()["kind"] == "blocks"
    assert book.save(3, "代码", "print(1)\n").summary()["kind"] == "python"
    for bad in ([1, 2], {"blocks": "x"}, {"blocks": {"b": "x" * 400_001}}):
        with pytest.raises(LabkitError) as refused:
            book.save(3, "坏的", "x", blocks=bad)
        assert refused.value.code in ("bad_input", "too_large")
    assert len(book.list(3)) == 2                     # nothing half-saved
