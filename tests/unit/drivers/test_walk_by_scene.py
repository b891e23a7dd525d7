"""The walk_by scene: drawn people crossing a doorway that the real pose detector finds, so a
door counter fed with it counts who went in and who went out."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from labkit.drivers.scenes import (SceneError, check_scene, render, walk_by_length,
                                   walk_by_positions)
from labkit.vision.linecount import DoorCounter
from labkit.vision.people import PeopleDetector

FPS = 10


def play(walkers: list[str], store: Any, seconds: float = 1.5, gap: float = 0.3,
         direction: str = "right") -> tuple[DoorCounter, list[int], list[float]]:
    """Every frame of the scene through the detector and a counter at the middle; also how
    many people were found in each frame and where the scene put its (first) walker."""
    people = PeopleDetector(store=store)
    door = DoorCounter(people, line=0.5, direction=direction)
    params = {"walkers": walkers, "seconds": seconds, "gap": gap}
    found, truth = [], []
    for i in range(int(walk_by_length(walkers, seconds, gap) * FPS)):
        t = i / FPS
        found.append(len(people.detect(render("walk_by", params, t))))
        at = walk_by_positions(t, walkers, seconds, gap)
        truth.append(at[0][1] if at else -1.0)
    people.close()
    return door, found, truth


def test_people_walking_in_and_out_are_counted_by_the_real_detector(model_store: Any) -> None:
    walkers = ["right", "peek_right", "left", "right", "peek_left", "right"]
    door, found, truth = play(walkers, model_store)
    c = door.counter
    assert (c.entered, c.left, c.inside) == (3, 1, 2)
    assert [way for _, way in c.crossings] == ["in", "out", "in", "in"]
    # the detector really sees them: someone found in most frames with a walker well inside
    # the picture, and nobody in the empty doorway between walkers
    inside = [n for n, x in zip(found, truth, strict=True) if 0.15 < x < 0.85]
    empty = [n for n, x in zip(found, truth, strict=True) if x == -1.0]
    assert np.mean([n == 1 for n in inside]) > 0.9
    assert empty and max(empty) == 0
    door.close()


def test_two_in_the_doorway_at_once_are_two_people(model_store: Any) -> None:
    """Each sets off when the one before is halfway: two in the picture at once, the two
    going in each followed under a number of their own, and the third passing the second on
    the way out counted too (when two pass, their numbers may swap: the counts stay right)."""
    door, found, _ = play(["right", "right", "left"], model_store, seconds=2.0, gap=-1.0)
    assert max(found) == 2
    crossings = door.counter.crossings
    assert [way for _, way in crossings] == ["in", "in", "out"]
    assert crossings[0][0] != crossings[1][0]
    door.close()


def test_the_way_in_can_be_the_other_way(model_store: Any) -> None:
    door, _, _ = play(["left", "right"], model_store, direction="left")
    assert [way for _, way in door.counter.crossings] == ["in", "out"]
    door.close()


def test_a_walk_replays_identically_and_moves() -> None:
    params = {"walkers": ["right", "left"], "seconds": 2}
    a, b = render("walk_by", params, 0.7), render("walk_by", params, 0.7)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, render("walk_by", params, 1.2))
    gap = render("walk_by", params, 2.3)                 # between the two walkers: nobody
    assert len(np.unique(gap.reshape(-1, 3), axis=0)) == 1
    assert np.array_equal(render("walk_by", params, 6.7), gap)          # all walked by
    looped = {**params, "loop": True}
    assert np.array_equal(render("walk_by", looped, 6.7), a)            # 6 s later: again


@pytest.mark.parametrize("params,message", [
    ({"walkers": ["sideways"]}, "walkers must be"),
    ({"walkers": []}, "walkers must be"),
    ({"seconds": 0.2}, "seconds"),
    ({"gap": -2.6}, "gap"),
    ({"size": 2}, "size"),
])
def test_bad_walk_by_options_are_refused(params: dict[str, Any], message: str) -> None:
    with pytest.raises(SceneError, match=message):
        check_scene("walk_by", params)
