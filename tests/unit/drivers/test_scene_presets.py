"""The scenes a laptop user switches the synthetic camera to: every preset draws, replays
identically, and moves a little between steps so recorded samples are not one frame."""

from __future__ import annotations

import numpy as np
import pytest

from labkit.drivers.scene_presets import DEVICE, PRESETS, STEP_S, player, preset_names


def test_every_preset_draws_and_replays_identically() -> None:
    assert preset_names()[0] == DEVICE and set(preset_names()[1:]) == set(PRESETS)
    for name in PRESETS:
        show = player(name)
        a, b = show(0.1), player(name)(0.1)
        assert a.shape == (480, 640, 3) and a.dtype == np.uint8
        assert np.array_equal(a, b), name


@pytest.mark.parametrize("name", ["red_ball", "hand_open", "square_card"])
def test_a_preset_varies_from_step_to_step(name: str) -> None:
    show = player(name)
    frames = [show(i * STEP_S + 0.01) for i in range(6)]
    assert len({f.tobytes() for f in frames}) >= 5


def test_different_presets_look_different() -> None:
    def reddish(img: np.ndarray) -> int:
        b, r = img[..., 0].astype(int), img[..., 2].astype(int)
        return int(((r > 180) & (b < 90)).sum())

    def bluish(img: np.ndarray) -> int:
        b, r = img[..., 0].astype(int), img[..., 2].astype(int)
        return int(((b > 170) & (r < 70)).sum())

    red, blue = player("red_ball")(0.0), player("blue_ball")(0.0)
    assert reddish(red) > 5000 and reddish(blue) == 0
    assert bluish(blue) > 5000 and bluish(red) == 0


def test_unknown_preset() -> None:
    with pytest.raises(KeyError):
        player("unicorn")
