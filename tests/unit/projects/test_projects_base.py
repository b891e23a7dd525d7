"""The Project API refuses malformed labs at import time, with the class named."""

from __future__ import annotations

import pytest

from labkit.projects.base import CheckResult, Project, check
from labkit.projects.eventlog import EventLog


def test_checks_are_collected_with_descriptions() -> None:
    class Lab(Project):
        id = "lab_ok"
        band = "cognition"
        hardware = ("camera", "servo")

        @check("moved", description="the servo moved")
        def moved(self, log: EventLog) -> CheckResult:
            return CheckResult.boolean(True)

        @check("said")
        def said(self, log: EventLog) -> bool:
            """a word was heard"""
            return False

    assert Lab.check_ids() == ["moved", "said"]
    assert Lab.checks["said"].description == "a word was heard"
    assert Lab.uses_camera() and Lab.devices() == ["servo"]
    results = Lab().evaluate(EventLog())
    assert results["moved"].passed and not results["said"].passed  # bools are wrapped


@pytest.mark.parametrize("attrs, words", [
    ({"id": "Bad-Id", "band": "experience"}, "lower_snake_case"),
    ({"id": "lab_x", "band": "primary"}, "band"),
    ({"id": "lab_x", "band": "experience", "hardware": "led"}, "tuple"),
])
def test_malformed_labs_are_refused(attrs: dict, words: str) -> None:
    with pytest.raises(TypeError) as exc:
        type("BadLab", (Project,), {**attrs, "c": check("c_ok")(lambda self, log: True)})
    assert words in str(exc.value)


def test_a_lab_without_checks_is_refused() -> None:
    with pytest.raises(TypeError, match="no @check"):
        type("NoChecks", (Project,), {"id": "no_checks", "band": "creative"})


def test_check_ids_must_be_snake_case() -> None:
    with pytest.raises(ValueError):
        check("LED on!")


def test_counting_result_caps_progress() -> None:
    r = CheckResult.counting(5, 3)
    assert r.passed and r.count == 3 and r.target == 3 and "5" in r.detail
    assert not CheckResult.counting(2, 3).passed
