"""Pipeline files: the shipped examples check, and every kind of mistake names its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.drivers.wiring import load_wiring
from labkit.pipeline.spec import PipelineError, parse

EXAMPLES = sorted((Path(__file__).resolve().parents[3] / "labkit" / "pipeline" / "examples")
                  .glob("*.yaml"))
WIRING = load_wiring(None)

GOOD = """\
name: queue
blocks:
  - {id: cam, block: camera}
  - {id: faces, block: faces, input: cam}
  - {id: crowd, block: compare, input: faces, test: "count >= 2"}
  - {id: light, block: rgb, input: crowd, colour: red}
"""


def error(text: str) -> PipelineError:
    with pytest.raises(PipelineError) as info:
        parse(text, wiring=WIRING)
    return info.value


def test_the_shipped_examples_check_and_run_in_order() -> None:
    assert len(EXAMPLES) >= 3
    for path in EXAMPLES:
        spec = parse(path.read_text(encoding="utf-8"), wiring=WIRING)
        placed: set[str] = set()
        for block in spec.blocks:          # every block comes after its input
            assert block.input is None or block.input in placed, (path.name, block.id)
            placed.add(block.id)
        assert spec.demo, f"{path.name} has no demo scenario for the simulated kit"


def test_the_door_counter_labs_pipeline_file_checks() -> None:
    """The 课堂计数器 lab ships its rule as a pipeline to enable on boot."""
    folder = EXAMPLES[0].parents[2] / "labs" / "creative" / "door_counter"
    spec = parse((folder / "door_counter.yaml").read_text(encoding="utf-8"), wiring=WIRING)
    door = spec.block("door")
    assert door.type.name == "line_counter" and door.params["direction"] == "right"
    assert spec.block("full").params["test"].replace(" ", "").startswith("inside>=")


def test_blocks_listed_before_their_input_are_put_in_running_order() -> None:
    lines = GOOD.splitlines()
    shuffled = "\n".join(lines[:2] + lines[:1:-1]) + "\n"
    spec = parse(shuffled, wiring=WIRING)
    assert [b.id for b in spec.blocks] == ["cam", "faces", "crowd", "light"]
    assert spec.block("light").params == {"device": "rgb", "colour": "red", "otherwise": "off"}


def test_an_unknown_block_names_its_line_and_the_blocks_there_are() -> None:
    exc = error(GOOD.replace("block: faces", "block: face_finder"))
    assert exc.line == 4
    assert "face_finder" in str(exc) and "faces" in str(exc)
    assert str(exc).startswith("line 4: ")


def test_a_cycle_is_refused_with_the_blocks_in_it() -> None:
    text = GOOD + "  - {id: a, block: held, input: b}\n  - {id: b, block: toggle, input: a}\n"
    exc = error(text)
    assert exc.line in (7, 8)
    assert "cycle" in str(exc) and "a → b → a" in str(exc) or "b → a → b" in str(exc)


def test_a_parameter_of_the_wrong_type_names_the_line_of_the_parameter() -> None:
    text = GOOD + "  - id: wait\n    block: held\n    input: crowd\n    seconds: soon\n"
    exc = error(text)
    assert exc.line == 10
    assert "seconds" in str(exc) and "number" in str(exc)


def test_a_parameter_out_of_range_says_the_range() -> None:
    exc = error(GOOD + "  - {id: arm, block: servo, input: crowd, angle: 120}\n")
    assert exc.line == 7
    assert "120" in str(exc) and "-90" in str(exc) and "90" in str(exc)


def test_a_choice_outside_the_list_and_an_unknown_parameter() -> None:
    assert "violet" in str(error(GOOD.replace("colour: red", "colour: violet")))
    exc = error(GOOD.replace("colour: red", "color: red"))
    assert exc.line == 6 and "'color'" in str(exc) and "colour" in str(exc)


def test_a_missing_input_an_unknown_input_and_a_wire_that_does_not_fit() -> None:
    assert "input is missing" in str(error(GOOD.replace(", input: cam", "")))
    exc = error(GOOD.replace("input: cam", "input: camera1"))
    assert exc.line == 4 and "camera1" in str(exc)
    exc = error(GOOD.replace("input: faces", "input: cam"))
    assert exc.line == 5 and "cannot follow" in str(exc)


def test_a_compare_test_must_read_a_value_the_input_gives() -> None:
    exc = error(GOOD.replace("count >= 2", "faces > 1"))
    assert exc.line == 5 and "count" in str(exc)
    assert "must be like" in str(error(GOOD.replace("count >= 2", "count is many")))


def test_two_blocks_on_one_output_and_a_device_the_wiring_lacks() -> None:
    exc = error(GOOD + "  - {id: again, block: rgb, input: crowd}\n")
    assert exc.line == 7 and "light" in str(exc)
    exc = error(GOOD.replace("colour: red", "device: lamp"))
    assert exc.line == 6 and "lamp" in str(exc) and "rgb" in str(exc)


def test_broken_yaml_and_a_bad_demo_name_their_line() -> None:
    exc = error(GOOD + "  - {id: x, block: led, input: crowd\n")
    assert exc.line is not None and exc.line >= 7
    exc = error(GOOD + "demo:\n  - {for: 1, camera: {scene: unicorns}}\n")
    assert exc.line == 8 and "unicorns" in str(exc)


def test_the_message_is_translated_for_the_reader() -> None:
    from labkit.errors import use_translator
    from labkit.i18n import translations

    exc = error(GOOD.replace("block: faces", "block: face_finder"))
    previous = use_translator(translations("zh_CN").gettext)
    try:
        assert str(exc).startswith("第 4 行：") and "不认识的积木" in str(exc)
    finally:
        use_translator(previous)


def test_a_label_rule_on_hands_must_name_a_gesture_the_tracker_gives() -> None:
    text = GOOD.replace("block: faces", "block: hands").replace(
        '{id: crowd, block: compare, input: faces, test: "count >= 2"}',
        "{id: crowd, block: label, input: faces, is: open}")
    exc = error(text)
    assert exc.line == 5 and "open_palm" in str(exc) and "'open'" in str(exc)
    assert parse(text.replace("is: open", "is: open_palm"), wiring=WIRING)
