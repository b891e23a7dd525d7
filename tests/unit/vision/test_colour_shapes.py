"""ColourTracker and ShapeFinder on drawn scenes and on the synthetic camera."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from labkit.vision import ColourTracker, ShapeFinder
from labkit.vision.colour import range_from_sample
from labkit.vision.shapes import STAGES


def scene(shift: int = 0) -> np.ndarray:
    img = np.full((480, 640, 3), 235, np.uint8)
    cv2.circle(img, (150 + shift, 150), 60, (40, 40, 220), -1)
    cv2.rectangle(img, (300, 80), (420, 200), (200, 120, 30), -1)
    cv2.rectangle(img, (460, 300), (620, 380), (40, 180, 40), -1)
    cv2.fillPoly(img, [np.array([[120, 420], [220, 250], [320, 420]])], (30, 200, 230))
    angles = np.linspace(0, 2 * np.pi, 7)[:-1]
    hexagon = np.stack([500 + 50 * np.cos(angles), 200 + 50 * np.sin(angles)], 1).astype(np.int32)
    cv2.fillPoly(img, [hexagon], (200, 60, 160))
    return img


@pytest.mark.parametrize("colour, centre", [("red", (150, 150)), ("blue", (360, 140)),
                                            ("green", (540, 340)), ("yellow", (220, 363))])
def test_colour_centroids(colour: str, centre: tuple[int, int]) -> None:
    tracker = ColourTracker(colour=colour)
    result = tracker.detect(scene())
    assert len(result.blobs) == 1
    assert result.best.cx == pytest.approx(centre[0], abs=3)
    assert result.best.cy == pytest.approx(centre[1], abs=3)
    assert tracker.x.value == pytest.approx(2 * result.best.cx / 640 - 1)
    tracker.close()


def test_x_follows_the_ball_and_is_zero_without_it() -> None:
    tracker = ColourTracker(colour="red")
    xs = [tracker.detect(scene(shift)).best.cx for shift in (-60, 0, 60)]
    assert xs[0] < xs[1] < xs[2]
    tracker.detect(np.full((480, 640, 3), 235, np.uint8))
    assert tracker.value == 0 and tracker.x.value == 0.0 and tracker.size.value == 0.0
    tracker.close()


def test_teach_a_colour_from_a_sample_box() -> None:
    img = scene()
    ranges = range_from_sample(img, (130, 130, 40, 40))      # inside the red circle
    tracker = ColourTracker(colour=ranges)
    result = tracker.detect(img)
    assert result.colour == "custom" and len(result.blobs) == 1
    assert result.best.cx == pytest.approx(150, abs=3)
    with pytest.raises(ValueError):
        ColourTracker(colour="ultraviolet")
    with pytest.raises(ValueError):
        range_from_sample(img, (900, 900, 10, 10))


def test_synthetic_camera_red_ball() -> None:
    from labkit.drivers.camera import SyntheticSource

    src = SyntheticSource()
    tracker = ColourTracker(colour="red")
    for n in (0, 20, 40):
        result = tracker.detect(src.render(n))
        assert len(result.blobs) == 1 and result.best.cy == pytest.approx(384, abs=4)


def test_shapes_named_with_colours() -> None:
    finder = ShapeFinder()
    result = finder.detect(scene())
    found = {(s.label, s.colour) for s in result.shapes}
    assert found == {("circle", "red"), ("square", "blue"), ("rectangle", "green"),
                     ("triangle", "yellow"), ("hexagon", "purple")}
    assert finder.count.value == 5 and result.count("circle") == 1
    assert finder.label_is(result.shapes[0].label).value == 1


def test_pipeline_stages_for_the_lesson() -> None:
    finder = ShapeFinder()
    stages = finder.pipeline(scene())
    assert tuple(stages) == STAGES
    assert all(img.shape == (480, 640, 3) and img.dtype == np.uint8 for img in stages.values())
    assert set(np.unique(stages["edges"])) <= {0, 255} and stages["edges"].any()
    assert not np.array_equal(stages["contours"], scene())
