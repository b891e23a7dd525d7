"""A program's end is told only once the kit takes the next one: a page that runs a program
again on the exit event (or as soon as `wait()` returns) is not refused as busy."""

from __future__ import annotations

from typing import Any

from tests.unit.sandbox.test_kit_services import STUDENT


def test_the_kit_is_free_for_the_next_program_when_the_exit_is_told(runtime: Any) -> None:
    sandbox = runtime.sandbox
    running_at_exit: list[dict[int, Any]] = []

    def on_event(event: dict[str, Any]) -> None:
        if event["type"] == "exit":
            running_at_exit.append(dict(sandbox.running))

    first = sandbox.start("print('一')", STUDENT, on_event=on_event)
    result = first.wait(90)
    assert result is not None and result["reason"] == "done", first.events
    assert running_at_exit == [{}], "the exit was told while the kit still ran the program"
    assert sandbox.running == {}
    second = sandbox.start("print('二')", STUDENT)       # not SandboxBusy
    result = second.wait(90)
    assert result is not None and result["reason"] == "done", second.events
