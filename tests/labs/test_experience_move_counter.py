"""Move!: two rep counters share one pose tracker (`tracker: arms`), so the pose model runs
once per frame; a `tracker:` that cannot be shared is a lab folder problem, not a crash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from labkit.projects.discovery import PACKAGE_LABS
from labkit.projects.registry import discover

FOLDER = PACKAGE_LABS / "experience" / "move_counter"


def test_the_squat_counter_follows_the_arm_counters_tracker(runtime: Any, model_store: Any,
                                                            data_dir: Path) -> None:
    from labkit.projects.base import LabContext
    from labkit.projects.eventlog import EventLog
    from labkit.projects.lab import make_project

    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    labs = discover([(PACKAGE_LABS, "package")])
    cls = make_project(labs.specs["move_counter"])
    lab = cls()
    ctx = LabContext(runtime, EventLog())
    lab.setup(ctx)
    try:
        arms, squats = lab.built
        assert len(lab.vision) == 1 and lab.vision[0] is arms      # one model is fed
        assert squats.shared and squats.feeds is arms.feeds
        assert squats.device.tracker is arms.feeds and arms.device.exercise.name == "arm_raise"
        assert squats.device.exercise.name == "squat"
    finally:
        lab.teardown(ctx)


@pytest.mark.parametrize("change,why", [
    ({"squats": {"detector": "reps", "exercise": "squat", "tracker": "nobody"}},
     "'nobody' is not a detector declared before 'squats'"),
    ({"squats": {"detector": "face", "tracker": "arms"}}, "only a counter or game"),
    ({"squats": {"detector": "rps", "tracker": "arms"}}, "does not run the model"),
])
def test_a_tracker_that_cannot_be_shared_is_a_problem(tmp_path: Path, change: dict,
                                                      why: str) -> None:
    data = yaml.safe_load((FOLDER / "lab.yaml").read_text(encoding="utf-8"))
    data["uses"].update(change)
    folder = tmp_path / "experience" / "move_shared_test"
    folder.mkdir(parents=True)
    (folder / "lab.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    found = discover([(tmp_path, "data")])
    assert "move_shared_test" not in found.specs
    assert any(why in p.message for p in found.problems), found.problems
