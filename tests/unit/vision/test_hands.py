"""HandTracker against mediapipe 0.10.14's Hands (static image mode, 2 hands), plus tracking.

No installed package ships a photo with a hand in it, so the hand images are rendered
(tests/fixtures/oracle/hands_images.py); the photos check that hand-free pictures give none.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from tests.unit.vision.conftest import hands_images, load_oracle, oracle_image

ORACLE = load_oracle("hands")


def _match(got: Any, ref: dict[str, Any]) -> None:
    w, h = ref["size"]
    assert len(got.hands) == len(ref["hands"])
    for want in ref["hands"]:
        target = np.array(want["landmarks"])[:, :2] * (w, h)
        errors = [np.linalg.norm(np.array(hd.landmarks)[:, :2] - target, axis=1).mean()
                  for hd in got.hands]
        best = got.hands[int(np.argmin(errors))]
        assert min(errors) <= 0.02 * max(w, h)
        assert best.handedness == want["handedness"]
        assert best.handedness_score == pytest.approx(want["handedness_score"], abs=0.02)


@pytest.mark.parametrize("key", sorted(ORACLE["images"]))
def test_hands_match_mediapipe(hand_tracker: Any, key: str) -> None:
    ref = ORACLE["images"][key]
    result = hand_tracker.detect(oracle_image(key, ref["sha"]))
    assert (result.width, result.height) == tuple(ref["size"])
    _match(result, ref)


def test_gestures_on_rendered_hands(hand_tracker: Any) -> None:
    imgs = hands_images.all_images()
    for key, gesture, fingers in (("render/open", "open_palm", 5), ("render/victory", "victory", 2),
                                  ("render/fist", "fist", 0), ("render/point_tilted", "point", 1)):
        hand = hand_tracker.detect(cv2.cvtColor(imgs[key], cv2.COLOR_RGB2BGR)).best
        assert (hand.gesture, hand.fingers) == (gesture, fingers), key
    assert hand_tracker.label.value == "point" and hand_tracker.fingers.value == 1
    assert hand_tracker.label_is("point").value == 1 and hand_tracker.gesture_is("fist").value == 0
    with pytest.raises(ValueError, match="unknown gesture"):
        hand_tracker.gesture_is("wave")


def test_tracking_skips_the_palm_detector_while_the_hand_stays(model_store: Any) -> None:
    """Video mode: frame 1 detects the palm; frames 2–6 follow the hand from its own
    landmarks (no palm detection) and still agree with a fresh static detection; when the
    hand leaves, tracking is lost and the next hand is found by the palm detector again."""
    from labkit.vision import HandTracker

    video = HandTracker(store=model_store, max_hands=1)
    still = HandTracker(store=model_store, track=False)
    try:
        for i in range(6):
            rgb = hands_images.render_hand("open", centre=(0.45 + 0.02 * i, 0.62),
                                           rotation=3.0 * i)
            bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
            got = video.detect(bgr)
            ref = still.detect(bgr)
            assert got.detected == (i == 0)
            assert len(got.hands) == 1 and len(ref.hands) == 1
            err = np.linalg.norm(np.array(got.hands[0].landmarks)[:, :2]
                                 - np.array(ref.hands[0].landmarks)[:, :2], axis=1).mean()
            assert err <= 0.02 * 480
        empty = video.detect(np.full((360, 480, 3), 200, np.uint8))
        assert empty.hands == () and empty.detected is False   # tracked crop lost the hand
        again = video.detect(cv2.cvtColor(hands_images.render_hand("open"), cv2.COLOR_RGB2BGR))
        assert again.detected and len(again.hands) == 1
    finally:
        video.close()
        still.close()


def test_draw_marks_the_hand(hand_tracker: Any) -> None:
    bgr = cv2.cvtColor(hands_images.render_hand("open"), cv2.COLOR_RGB2BGR)
    result = hand_tracker.detect(bgr)
    drawn = hand_tracker.draw(bgr, result)
    assert drawn.shape == bgr.shape and not np.array_equal(drawn, bgr)
    assert np.array_equal(hand_tracker.draw(bgr, type(result)((), 480, 360)), bgr)
