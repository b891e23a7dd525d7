"""The teachable detector (labkit/learn/teachable.py) on its own: class names matched to a
lab's targets, a demo detector's answers mapped to colours and the buzzer, and a picked
project that could not be measured reported so — never as a made-up accuracy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labkit.drivers import scenes
from labkit.errors import LabkitError
from labkit.learn.dataset import ProjectStore
from labkit.learn.features import HogColourExtractor
from labkit.learn.model import train_project
from labkit.learn.synthetic import shapes_dataset
from labkit.learn.teachable import TeachableDetector, match_classes, project_report
from labkit.vision.shapes import ShapeFinder

BINS = {"recyclable": ["可回收物", "recyclable"], "kitchen": ["厨余垃圾", "kitchen waste"],
        "hazardous": ["有害垃圾", "hazardous"], "other": ["其他垃圾", "other"],
        "empty": ["空", "nothing"]}


def test_class_names_match_in_chinese_or_english_and_say_what_is_missing() -> None:
    got = match_classes(["可回收物", " Kitchen Waste ", "ＯＴＨＥＲ", "猫"], BINS)
    assert got["mapped"] == {"可回收物": "recyclable", " Kitchen Waste ": "kitchen",
                             "ＯＴＨＥＲ": "other"}
    assert got["missing"] == ["hazardous"]          # empty is optional
    assert got["unmapped"] == ["猫"]
    # a name that only contains a target's name is not that target (不可回收 is not 可回收)
    assert match_classes(["不可回收物"], BINS)["unmapped"] == ["不可回收物"]
    assert match_classes(["张开", "握拳"], None) == {"mapped": {"张开": "张开", "握拳": "握拳"},
                                                   "missing": [], "unmapped": []}


def test_the_demo_answers_with_the_labs_colours_and_buzzer() -> None:
    demo = ShapeFinder(start=False)
    det = TeachableDetector(kind="image", demo=demo, colours={"triangle": "red"},
                            buzz=["triangle"])
    try:
        card = scenes.render("cards", {"shapes": ["triangle"]}, 0.0)
        result = det.detect(card)
        assert result.source == "demo" and result.label == "triangle"
        assert det.colour.value == "red" and det.buzz.value == 1
        assert det.using_project.value == 0 and det.report is None
        det.detect(scenes.render("empty", {}, 0.0))
        assert det.label.value == "" and det.colour.value == "off" and det.buzz.value == 0
    finally:
        det.close()
    assert demo.closed


def test_an_unmeasurable_project_is_reported_unmeasured(tmp_path: Path) -> None:
    store = ProjectStore(tmp_path / "kit")
    project = store.create("形状", "image", ["circle", "square"])
    images, labels = shapes_dataset(3, classes=("circle", "square"), seed=1)
    by_name = {c.name: c.id for c in project.classes}
    det = TeachableDetector(kind="image")
    try:
        with pytest.raises(LabkitError) as untrained:
            det.use_project(project)
        assert untrained.value.code == "not_trained"
        for image, label in zip(images, labels, strict=True):
            # all pictures of a class in one take: no take of it can be held out
            project.add_sample(by_name[label], image, take=f"take{label}")
        train_project(project, HogColourExtractor())
        sound = store.create("声音", "sound", ["拍手", "口哨"])
        with pytest.raises(LabkitError) as wrong:
            det.use_project(sound)
        assert wrong.value.code == "wrong_kind" and det.picked is None
        picked = det.use_project(project)
        assert picked["id"] == project.id and picked["unmapped"] == []
        report = project_report(project)
        assert report["measured"] is False and report["accuracy"] is None
        assert det.report == report
        assert det.accuracy.value == 0.0 and det.measured.value == 0
        answer = det.detect(images[0])
        assert answer.source == "project" and answer.raw in ("circle", "square")
        assert det.using_project.value == 1
    finally:
        det.close()


def test_a_teachable_detector_refuses_what_a_camera_cannot_feed() -> None:
    with pytest.raises(ValueError):
        TeachableDetector(kind="sound")
    with pytest.raises(ValueError):
        TeachableDetector(kind="image", min_confidence=1.5)
    det = TeachableDetector(kind="hand", start=False)
    # not sure unless clearly surer than guessing among the project's classes
    assert np.isclose(det._threshold(2), 0.65) and np.isclose(det._threshold(5), 0.35)
    assert TeachableDetector(kind="image", min_confidence=0.3)._threshold(2) == 0.3


def test_a_teachable_labs_demo_must_be_a_plain_camera_detector() -> None:
    from labkit.projects.discovery import nested_problems

    assert nested_problems({"detector": "teachable", "demo": {"detector": "sorter"}}) == []
    assert nested_problems({"detector": "teachable"}) == []
    for bad in ({"detector": "claps"}, {"detector": "reps"}, {"detector": "nope"},
                {"detector": "teachable"}, {"detector": "hands", "tracker": "x"}, "hands"):
        found = nested_problems({"detector": "teachable", "demo": bad})
        assert len(found) == 1 and found[0][0] == "demo", bad


def test_taught_passes_for_a_picked_project_or_a_training_not_for_going_back() -> None:
    from labkit.projects.vocabulary import compile_check
    from tests.unit.projects.test_projects_vocabulary import make_log

    check = compile_check("taught(trained)")
    back = make_log(5.0, model=[(1.0, {"detector": "sorter", "project": None})])
    assert not check(back).passed
    assert check(make_log(5.0, model=[(1.0, {"detector": "sorter", "project": "p1"})])).passed
    assert check(make_log(5.0, trained=[(2.0, {"state": "done"})])).passed
    assert not compile_check("taught()")(make_log(5.0, trained=[(2.0, {"state": "done"})])).passed
