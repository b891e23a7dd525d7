"""A pipeline the kit ships is found by name from any folder (labkit/pipeline/shipped.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from labkit.pipeline.shipped import resolve, shipped


def test_the_examples_and_the_lab_folders_pipelines_are_listed_by_name() -> None:
    found = shipped()
    assert {"queue_alarm", "button_fan", "door_counter"} <= set(found)
    assert found["door_counter"].parent.name == "door_counter"
    assert all(p.name != "lab.yaml" for p in found.values())


@pytest.mark.parametrize("given", ["door_counter", "door_counter.yaml"])
def test_a_name_that_is_not_a_file_here_is_the_shipped_pipeline(
        given: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve(given) == shipped()["door_counter"]


def test_a_file_on_disk_wins_over_a_shipped_name(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "door_counter.yaml").write_text("name: mine\n")
    assert resolve("door_counter.yaml") == Path("door_counter.yaml")
    # a path with a folder is never looked up by name: a typo there stays a missing file
    assert resolve("sub/door_counter.yaml") == Path("sub/door_counter.yaml")
    assert resolve("no_such_pipeline") == Path("no_such_pipeline")


def test_the_command_checks_a_shipped_pipeline_by_name(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from labkit.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path / "data"))
    done = CliRunner().invoke(main, ["pipeline", "check", "door_counter"])
    assert done.exit_code == 0, done.output
    assert "door_counter.yaml: pipeline door_counter" in done.output
    listed = CliRunner().invoke(main, ["pipeline", "list", "--shipped"])
    assert "queue_alarm" in listed.output
