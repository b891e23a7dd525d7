"""Degradations of a frame (robustness lab) and the scenes' options that apply them."""

from __future__ import annotations

import numpy as np
import pytest

from labkit.drivers.degrade import degrade
from labkit.drivers.scenes import SceneError, render


def test_each_degradation_does_what_it_says() -> None:
    img = np.full((40, 60, 3), 200, np.uint8)
    img[:, 30:] = 0
    assert degrade(img, dark=0.5)[0, 0].tolist() == [100, 100, 100]
    covered = degrade(img, occlude=0.25)
    assert (covered[:, :15] == 128).all() and (covered[:, 15:30] == 200).all()
    blurred = degrade(img, blur=0.1)
    assert 0 < blurred[20, 30, 0] < 200          # the hard edge is now a ramp
    turned = degrade(img, rotate=180)
    assert turned[20, 5, 0] == 0 and turned[20, 55, 0] == 200
    assert degrade(img).tolist() == img.tolist()


def test_scenes_take_the_options_and_refuse_bad_ones() -> None:
    plain = render("face", {}, 0.0, 160, 120)
    dark = render("face", {"dark": 0.75}, 0.0, 160, 120)
    assert dark.mean() == pytest.approx(plain.mean() * 0.25, abs=1.0)
    with pytest.raises(SceneError, match="dark must be a number from 0 to 1"):
        render("face", {"dark": 2}, 0.0, 160, 120)
    with pytest.raises(SceneError, match="blur"):
        render("balls", {"blur": "lots"}, 0.0, 160, 120)
