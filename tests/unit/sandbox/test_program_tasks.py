"""A program reads the kit's sensors (`sensor(name)`) and runs its vision tasks
(`Camera("kit").detect(task)`) through the kit; unknown names are refused with the list."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.sandbox.test_kit_services import STUDENT, out, run


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
        "from labkit.program import sound_level\n"
        "print('loud', 0 <= sound_level() < 140)\n"
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
    assert lines[6:9] == ["shapes int str True", "red True", "loud True"]
    # refused with the list of what there is: an output is not a sensor, an unknown task
    sensor_no, task_no, colour_no = lines[9:]
    assert sensor_no.startswith("refused KitError") and "temperature" in sensor_no
    assert "hands" in task_no and "colour" in task_no
    assert "red" in colour_no and "plaid" not in colour_no.split(":", 1)[-1]


def test_a_blocks_program_is_kept_with_its_workspace_and_bad_blocks_are_refused(
        tmp_path: Any) -> None:
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


PREDICT = ("from labkit.program import Camera\n"
           "camera = Camera('kit')\n"
           "for name in NAMES:\n"
           "    try:\n"
           "        seen = camera.predict(name)\n"
           "        print(seen.label in ('circle', 'square', ''), 0 <= seen.score <= 1)\n"
           "    except Exception as exc:\n"
           "        print('refused', exc)\n")


def _learn(runtime: Any) -> Any:
    from labkit.learn.service import LearnService

    store = runtime.model_store
    return runtime.service("learn", lambda: LearnService(runtime, store=store))


def _predict(runtime: Any, names: tuple[str, ...], owner: int) -> list[str]:
    program_run = runtime.sandbox.start(f"NAMES = {names!r}\n" + PREDICT, STUDENT, owner=owner)
    result = program_run.wait(90)
    assert result is not None and result["reason"] == "done", out(program_run, "stderr")
    return out(program_run)


def test_a_program_sees_only_its_students_teachable_projects(runtime: Any) -> None:
    learn = _learn(runtime)
    learn.projects.create("别人的", "image", ["a", "b"], owner=8)
    learn.projects.create("没训练", "image", ["a", "b"], owner=7)
    learn.projects.create("老师的", "image", ["a", "b"])
    other, untrained = _predict(runtime, ("别人的", "没训练"), owner=7)
    assert other.startswith("refused") and "别人的" in other
    yours = other.split("：")[-1]                       # the list of projects it may use
    assert "没训练" in yours and "老师的" in yours and "别人的" not in yours
    assert untrained.startswith("refused") and "没训练" in untrained and "训练" in untrained


@pytest.mark.slow   # trains a small image model (embedder + ONNX export): ~15 s here
def test_a_program_asks_its_students_trained_model(runtime: Any, data_dir: Any,
                                                   model_store: Any) -> None:
    from labkit.learn.features import EmbeddingExtractor
    from labkit.learn.model import train_project
    from labkit.learn.synthetic import shapes_dataset

    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    mine = _learn(runtime).projects.create("形状", "image", ["circle", "square"], owner=7)
    ids = {c.name: c.id for c in mine.classes}
    images, labels = shapes_dataset(6, ("circle", "square"), seed=1)
    for image, label in zip(images, labels, strict=True):
        mine.add_sample(ids[label], image)
    train_project(mine, EmbeddingExtractor.from_store(model_store))
    assert _predict(runtime, ("形状",), owner=7) == ["True True"]
