"""Segmenter against mediapipe 0.10.14's selfie segmentation; privacy blur, background swap."""

from __future__ import annotations

import base64
import zlib
from typing import Any

import cv2
import numpy as np
import pytest

from tests.unit.vision.conftest import load_oracle, oracle_image, oracle_images

ORACLE = load_oracle("segmentation")


@pytest.fixture(scope="module")
def segmenter(model_store: Any) -> Any:
    from labkit.vision import Segmenter

    seg = Segmenter(store=model_store)
    yield seg
    seg.close()


@pytest.mark.parametrize("key", sorted(ORACLE["images"]))
def test_mask_matches_mediapipe(segmenter: Any, key: str) -> None:
    ref = ORACLE["images"][key]
    w, h = ref["size"]
    bits = np.frombuffer(zlib.decompress(base64.b64decode(ref["mask"])), np.uint8)
    want = np.unpackbits(bits)[:w * h].reshape(h, w).astype(bool)
    result = segmenter.detect(oracle_image(key, ref["sha"]))
    got = result.binary()
    assert got.shape == (h, w)
    assert (got == want).mean() >= 0.99
    union = (got | want).sum()
    if want.mean() > 0.05:   # a person: the masks overlap almost completely
        assert (got & want).sum() / union >= 0.95
    assert result.coverage == pytest.approx(ref["coverage"], abs=0.01)


def test_signals_and_grid(segmenter: Any) -> None:
    bgr = cv2.cvtColor(oracle_images.image("astronaut"), cv2.COLOR_RGB2BGR)
    result = segmenter.detect(bgr)
    assert segmenter.value == 1 and segmenter.score.value == pytest.approx(result.coverage)
    data = segmenter.to_json(result)
    assert len(data["grid"]) == 24 and all(len(row) == 32 for row in data["grid"])
    assert "mask" not in data   # the full mask never leaves the kit's memory
    segmenter.detect(np.zeros((240, 320, 3), np.uint8))
    assert segmenter.value == 0


def test_grid_cells_are_the_share_of_person_in_each_cell(segmenter: Any) -> None:
    """The page's coarse grid: a cell is "1" when the mean of the mask over it (an area
    resize) is at least one half. Checked against one INTER_AREA resize to the grid, which
    the kit does in two steps; only a cell within float rounding of 0.5 could differ."""
    from labkit.vision.segmentation import GRID

    for key in ("astronaut", "coffee", "chelsea"):
        bgr = cv2.cvtColor(oracle_images.image(key), cv2.COLOR_RGB2BGR)
        result = segmenter.detect(bgr)
        means = cv2.resize(result.small, GRID, interpolation=cv2.INTER_AREA)
        got = np.array([[c == "1" for c in row] for row in result.grid])
        assert got.shape == (GRID[1], GRID[0])
        clear = np.abs(means - 0.5) > 1e-5
        assert (got == (means >= 0.5))[clear].all()
        assert clear.mean() > 0.99


def test_privacy_blur_and_background(segmenter: Any) -> None:
    bgr = cv2.cvtColor(oracle_images.image("astronaut"), cv2.COLOR_RGB2BGR)
    result = segmenter.detect(bgr)
    person = result.mask > 0.9
    back = result.mask < 0.1
    blurred = segmenter.blur(bgr, result)
    # person pixels unchanged, background pixels changed (smoothed)
    assert np.abs(blurred[person].astype(int) - bgr[person]).mean() < 2
    assert np.abs(blurred[back].astype(int) - bgr[back]).mean() > 5
    hidden = segmenter.blur(bgr, result, target="person")
    assert np.abs(hidden[person].astype(int) - bgr[person]).mean() > 5
    green = segmenter.replace_background(bgr, (0, 255, 0), result)
    assert (green[back] == (0, 255, 0)).all(axis=1).mean() > 0.95
    picture = segmenter.replace_background(bgr, np.zeros((10, 20, 3), np.uint8), result)
    assert picture.shape == bgr.shape and picture[back].mean() < 3
    with pytest.raises(ValueError, match="target"):
        segmenter.blur(bgr, result, target="room")
