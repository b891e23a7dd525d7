import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from labkit.drivers.camera import Camera, ImageFileSource, SyntheticSource, make_source
from labkit.errors import LabkitError


def test_synthetic_frames_change_and_sequence_grows():
    with Camera("synthetic", hardware="sim") as cam:
        seqs, images = [], []
        for frame in cam.frames():
            seqs.append(frame.seq)
            images.append(frame.image)
            if len(seqs) == 6:
                break
    assert seqs == sorted(seqs) and len(set(seqs)) == 6
    assert images[0].shape == (480, 640, 3) and images[0].dtype == np.uint8
    assert any(not np.array_equal(images[0], im) for im in images[1:])


def test_synthetic_is_deterministic_for_a_seed():
    a, b = SyntheticSource(seed=3), SyntheticSource(seed=3)
    assert np.array_equal(a.render(10), b.render(10))
    assert not np.array_equal(a.render(10), SyntheticSource(seed=4).render(10))


def test_read_never_blocks_and_returns_latest():
    cam = Camera("synthetic", hardware="sim")
    try:
        t0 = time.monotonic()
        cam.read()
        assert time.monotonic() - t0 < 0.05
        first = cam.wait_for_frame(0, timeout=5)
        later = cam.wait_for_frame(first.seq, timeout=5)
        assert later.seq > first.seq
        assert cam.read().seq >= later.seq
    finally:
        cam.close()


class SlowSource:
    """A device whose every picture takes a while, to catch `play` mid-picture."""

    name = "slow"

    def __init__(self) -> None:
        self.grabbing = threading.Event()

    def open(self) -> None:
        pass

    def grab(self) -> np.ndarray:
        self.grabbing.set()
        time.sleep(0.2)
        return np.zeros((8, 8, 3), np.uint8)

    def close(self) -> None:
        pass


def test_after_play_returns_every_new_frame_shows_the_played_scene():
    source = SlowSource()
    cam = Camera(source)
    try:
        cam.wait_for_frame(0, timeout=5)
        source.grabbing.clear()
        assert source.grabbing.wait(5)          # the device is making a picture right now
        seq = cam.read().seq
        cam.play(lambda t: np.full((8, 8, 3), 255, np.uint8))
        frame = cam.wait_for_frame(seq, timeout=5)
        assert frame is not None and frame.image.min() == 255, "a device picture after play()"
        cam.play(None)
        seq = cam.read().seq
        frame = cam.wait_for_frame(seq, timeout=5)
        assert frame is not None and frame.image.max() == 0, "a played picture after play(None)"
    finally:
        cam.close()


def test_reconnects_after_unplug():
    source = SyntheticSource(fps=50)
    cam = Camera(source, reconnect_delay=0.05)
    try:
        before = cam.wait_for_frame(0, timeout=5)
        source.unplugged = True
        deadline = time.monotonic() + 5
        while cam.connected and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not cam.connected, "the camera should notice the unplug"
        stale = cam.read()
        assert stale is not None  # readers keep the last good frame
        source.unplugged = False
        after = cam.wait_for_frame(stale.seq, timeout=5)
        assert after is not None and after.seq > before.seq
        assert cam.connected and cam.reconnects == 1
    finally:
        cam.close()


def test_image_file_source(tmp_path: Path):
    img = np.full((60, 80, 3), 200, np.uint8)
    path = tmp_path / "still.png"
    cv2.imwrite(str(path), img)
    with Camera(str(path)) as cam:
        frame = cam.wait_for_frame(0, timeout=5)
    assert frame.image.shape == (60, 80, 3)
    assert isinstance(make_source(str(path), hardware="sim"), ImageFileSource)


def test_unreadable_video_file_is_a_clear_error(tmp_path: Path):
    bad = tmp_path / "clip.mp4"
    bad.write_bytes(b"this is not a video")
    with pytest.raises(LabkitError, match="cannot be opened") as err:
        Camera(str(bad))
    assert "LABKIT_CAMERA" in err.value.fix


def test_missing_camera_index_is_a_clear_error():
    with pytest.raises(LabkitError, match="cannot be opened"):
        Camera("57")


def test_nonsense_source_is_a_clear_error():
    with pytest.raises(LabkitError, match="not a camera index or a file"):
        make_source("/no/such/thing", hardware="sim")


def test_auto_in_sim_mode_is_synthetic():
    assert isinstance(make_source("auto", hardware="sim"), SyntheticSource)
