"""The `cards` scene: printed shape cards the real shape finder names."""

from __future__ import annotations

import pytest

from labkit.drivers.scenes import SceneError, render
from labkit.vision.shapes import ShapeFinder


@pytest.mark.parametrize("shape", ["triangle", "square", "circle", "rectangle"])
def test_the_shape_finder_names_each_card(shape: str) -> None:
    finder = ShapeFinder()
    result = finder.detect(render("cards", {"shapes": [shape]}, 0.0))
    assert [s.label for s in result.shapes] == [shape]


def test_several_cards_and_a_card_as_grey_as_the_background() -> None:
    finder = ShapeFinder()
    result = finder.detect(render("cards", {"shapes": ["triangle", "square", "circle"]}, 0.0))
    assert sorted(s.label for s in result.shapes) == ["circle", "square", "triangle"]
    assert finder.detect(render("cards", {"shapes": ["square"], "colours": ["blue"]}, 0.0)
                         ).shapes == ()
    with pytest.raises(SceneError, match="unknown shape"):
        render("cards", {"shapes": ["star"]}, 0.0)
