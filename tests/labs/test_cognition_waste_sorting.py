"""The waste-sorting lab's built-in demo sorter: its figures are held-out ones, and its page
shows them (a project the students taught: tests/labs/test_teachable_labs.py).

The demo (tests/labs/test_every_lab_demo.py) proves the LED and servo follow the sorter; this
file checks what a demo cannot: both measurements come from pictures set aside before any
training, the test on unseen kinds holds out whole kinds, and the page part is there.
"""

from __future__ import annotations

from typing import Any

from labkit.drivers import waste
from labkit.learn.sorter import EMPTY, ImageSorter, train_sorter


def test_both_tests_are_held_out_and_honest() -> None:
    (clf, _extractor), report = train_sorter("waste", per_item=6)
    n_pictures = 6 * len(waste.ITEMS) + 6 * 3
    assert report["n_train"] + report["n_test"] == n_pictures
    assert report["measured"] and report["accuracy"] is not None
    total = sum(sum(row) for row in report["confusion"])
    hits = sum(report["confusion"][i][i] for i in range(len(report["classes"])))
    assert total == report["n_test"] and abs(hits / total - report["accuracy"]) < 1e-3
    unseen = report["unseen"]
    # whole kinds are held out: a held-out kind has no picture in the training part
    assert unseen["held_out_items"] and all(k in waste.ITEMS or k.startswith("empty")
                                            for k in unseen["held_out_items"])
    # the honest finding the lesson is built on: unseen kinds are far harder
    assert unseen["accuracy"] < report["accuracy"]
    assert set(report["classes"]) == set(waste.BINS) | {EMPTY}


def test_the_sorter_sorts_new_pictures_of_known_kinds() -> None:
    from labkit.drivers.scenes import render

    sorter = ImageSorter(examples="waste", per_item=6)
    try:
        right = sum(sorter.detect(render("waste", {"item": item, "variant": 90}, 0)).label == b
                    for item, b in waste.ITEMS.items())
        assert right >= 10, right
        assert sorter.detect(render("empty", {}, 0)).label == EMPTY
        assert sorter.present.value == 0
    finally:
        sorter.close()


def test_the_lab_page_shows_the_report_card_and_the_model_picker(student_client: Any) -> None:
    html = student_client.get("/labs/waste_sorting").get_data(as_text=True)
    # the report card follows the teachable detector: the students' model, or the demo's
    assert 'id="part-confusion-sorter"' in html and 'data-topic="vision.teachable"' in html
    assert "labparts.js" in html
    assert 'id="part-teachable-sorter"' in html and "labmodels.js" in html


def test_the_kit_says_the_bin_of_each_item_it_sorts(runtime: Any, model_store: Any,
                                                    data_dir: Any) -> None:
    """The demo's items each turn a bin's label on; the kit says that bin (logged per action),
    and the bins it said are the bins it showed."""
    import time

    from labkit.projects.clock import SimClock
    from labkit.projects.discovery import PACKAGE_LABS
    from labkit.projects.registry import discover
    from labkit.projects.runner import LabRunner

    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    labs = discover([(PACKAGE_LABS, "package")])
    runner = LabRunner(runtime, None, labs, clock=SimClock(1_000_000.0))
    lab = runner.start("waste_sorting", demo=True)
    try:
        deadline = time.monotonic() + 120
        while not lab.demo_done and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lab.demo_done and lab.errors == 0, lab.last_error
        said = {name.removeprefix("say_") for name in
                ("say_recyclable", "say_kitchen", "say_hazardous", "say_other")
                if lab.log.count(name)}
        shown = {e.value for e in lab.log.entries("bin")} & {"recyclable", "kitchen",
                                                              "hazardous", "other"}
        assert said and said == shown, (said, shown)
    finally:
        runner.stop()


def test_the_report_card_rides_along_by_the_clock_not_by_frames(monkeypatch: Any) -> None:
    """Under load a kit may sort one frame every few seconds: the report card must still
    reach a page within a few seconds, not after ten more frames."""
    from labkit.learn import sorter as sorter_module

    now = [1000.0]
    monkeypatch.setattr(sorter_module.time, "monotonic", lambda: now[0])
    sorter = sorter_module.ImageSorter(None, "waste", per_item=6)
    try:
        extras = lambda: {k: v for extra in sorter.json_extras for k, v in extra().items()}  # noqa: E731
        assert extras()["report"] is sorter.report          # the first result carries it
        assert "report" not in extras()                      # not on every result
        now[0] += sorter_module.REPORT_EVERY_SECONDS + 0.01
        assert extras()["report"] is sorter.report          # but again a moment later
    finally:
        sorter.close()
