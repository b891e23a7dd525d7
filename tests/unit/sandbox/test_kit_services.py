"""A sandboxed program uses the kit's services through the kit: its one camera
(`Camera("kit")`), its face detector and its speaker; the runtime wires it all
(`runtime.sandbox`, `runtime.kit_link`)."""

from __future__ import annotations

from typing import Any

from labkit.drivers.pins import Holder

STUDENT = Holder("program:7", "program", "小刚")


def run(runtime: Any, source: str) -> tuple[Any, dict[str, Any]]:
    program_run = runtime.sandbox.start(source, STUDENT)
    result = program_run.wait(90)
    assert result is not None
    return program_run, result


def out(program_run: Any, stream: str = "stdout") -> list[str]:
    return [e["text"] for e in program_run.events if e["type"] == stream]


def test_a_program_reads_frames_of_the_kits_camera(runtime: Any) -> None:
    frame = runtime.camera.wait_for_frame(0, timeout=10)
    assert frame is not None
    program_run, result = run(runtime, (
        "from labkit.program import Camera\n"
        "camera = Camera('kit')\n"
        "a = camera.read()\n"
        "b = camera.read()\n"
        "print(a.shape, a.dtype, b.shape)\n"
        "print(int(a.mean()) > 0)\n"))
    assert result["reason"] == "done", out(program_run, "stderr")
    h, w = frame.image.shape[:2]
    assert out(program_run) == [f"({h}, {w}, 3) uint8 ({h}, {w}, 3)", "True"]
    assert not runtime.camera.closed          # the kit's camera, still open, never reopened


def test_only_the_kits_camera_can_be_opened(runtime: Any) -> None:
    program_run, result = run(runtime, "from labkit.program import Camera\nCamera(0)\n")
    assert result["reason"] == "error"
    assert "Camera(\"kit\")" in out(program_run, "stderr")[-1]


def test_faces_without_a_face_model_is_a_clear_error(runtime: Any) -> None:
    runtime.services["model_store"] = None           # a kit whose models are not fetched
    program_run, result = run(runtime, "from labkit.program import Camera\n"
                                       "print(Camera('kit').faces())\n")
    assert result["reason"] == "error"
    last = out(program_run, "stderr")[-1]
    assert last.startswith("labkit.sandbox.kitpins.KitError")
    assert "labkit models fetch" in last


def test_the_say_hello_example_speaks_on_the_kit(runtime: Any) -> None:
    from labkit.sandbox.examples import example

    hello = example("say_hello")
    assert hello is not None
    program_run, result = run(runtime, hello.source)
    assert result["reason"] == "done", out(program_run, "stderr")
    assert out(program_run) == ["你好，同学！ Hello!", "done / 完成"]
    assert [p["text"] for p in runtime.speaker.played] == ["你好，同学"]


def test_saying_nothing_is_refused_clearly(runtime: Any) -> None:
    program_run, result = run(runtime, "from labkit.program import say\nsay('   ')\n")
    assert result["reason"] == "error"
    assert "500" in out(program_run, "stderr")[-1]


def test_a_pin_wired_to_an_input_cannot_be_driven(runtime: Any) -> None:
    """On a real kit, driving the button's pin high while it is pressed shorts it."""
    program_run, result = run(runtime, "from gpiozero import LED\nLED(26).on()\n")
    assert result["reason"] == "error"
    last = out(program_run, "stderr")[-1]
    assert "26" in last and "button" in last
    # reading it is fine
    program_run, result = run(runtime, "from gpiozero import Button\n"
                                       "print(Button(26).is_pressed)\n")
    assert result["reason"] == "done", out(program_run, "stderr")
    assert out(program_run) == ["False"]
