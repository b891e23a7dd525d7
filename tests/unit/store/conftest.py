"""Store fixtures: a fresh Store in the test's temp data dir."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def school(store: Any) -> dict[str, Any]:
    """Two classes with a student each (ids differ, names may repeat across classes)."""
    a = store.roster.add_class("二年级一班")
    b = store.roster.add_class("二年级二班")
    return {"a": a, "b": b, "wang": store.roster.add_student(a.id, "王芳"),
            "li": store.roster.add_student(b.id, "李雷")}


def table_counts(store: Any) -> dict[str, int]:
    names = ("classes", "students", "runs", "step_results", "reflections", "scores", "artefacts",
             "kit_settings")
    return {n: store.db.one(f"SELECT COUNT(*) AS n FROM {n}")["n"] for n in names}
