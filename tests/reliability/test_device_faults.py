"""The camera disappears mid-stream and comes back: the same MJPEG connection resumes within
3 s, without restarting the server."""

from __future__ import annotations

import threading
import time
import urllib.request
from typing import Any

from tests.reliability.figures import record


def test_mjpeg_resumes_within_3_s_after_the_camera_comes_back(inproc_server: Any) -> None:
    source = inproc_server.runtime.camera.source
    frames: list[float] = []
    stop = threading.Event()

    def watch() -> None:
        with urllib.request.urlopen(inproc_server.url + "/stream.mjpg", timeout=10) as r:
            buffer = b""
            while not stop.is_set():
                chunk = r.read1(65536)
                if not chunk:
                    break
                buffer += chunk
                while (end := buffer.find(b"\xff\xd9")) >= 0:   # end of one JPEG
                    frames.append(time.monotonic())
                    buffer = buffer[end + 2:]

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    deadline = time.monotonic() + 10
    while len(frames) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(frames) >= 3, "no MJPEG frames before the fault"

    resumed = []
    for _cycle in range(2):
        source.unplugged = True
        gone = time.monotonic()
        time.sleep(1.5)
        source.unplugged = False
        back = time.monotonic()
        stale = [t for t in frames if gone + 0.5 < t < back]
        assert len(stale) <= 2, f"{len(stale)} frames while the camera was away"  # a real gap
        while time.monotonic() < back + 3.0 and not [t for t in frames if t > back + 0.05]:
            time.sleep(0.02)
        after = [t for t in frames if t > back + 0.05]
        assert after, "the stream did not resume within 3 s"
        resumed.append(after[0] - back)
    stop.set()
    assert reader.is_alive() or frames   # the same connection carried frames throughout
    assert inproc_server.runtime.camera.reconnects >= 2
    record("camera_unplugged_mid_stream", {"faults_injected": 2,
                                           "max_resume_s": round(max(resumed), 3)})
