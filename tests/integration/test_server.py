"""A real `labkit serve` on a free port: health, live view, bench API, events."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest


def mjpeg_parts(url: str, timeout: float = 20.0) -> Iterator[tuple[int, bytes]]:
    """The JPEG parts of an MJPEG stream as they arrive: (sequence number, jpeg bytes)."""
    deadline = time.monotonic() + timeout
    with urllib.request.urlopen(url, timeout=timeout) as r:
        assert r.headers["Content-Type"].startswith("multipart/x-mixed-replace")
        while time.monotonic() < deadline:
            line = r.readline()
            if not line.startswith(b"--labkitframe"):
                continue
            headers = {}
            while (h := r.readline().strip()):
                k, _, v = h.decode().partition(":")
                headers[k.strip().lower()] = v.strip()
            jpeg = r.read(int(headers["content-length"]))
            yield int(headers["x-frame-seq"]), jpeg


def read_mjpeg(url: str, frames: int, timeout: float = 20.0) -> list[tuple[int, bytes]]:
    """Read `frames` JPEG parts from an MJPEG stream."""
    return list(itertools.islice(mjpeg_parts(url, timeout), frames))


def get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_healthz(live_server):
    status, body = get_json(live_server.url + "/healthz")
    assert status == 200 and body["status"] == "ok" and body["hardware"] == "sim"


def test_mjpeg_yields_distinct_frames(live_server):
    frames = read_mjpeg(live_server.url + "/stream.mjpg", 6)
    assert len(frames) == 6
    seqs = [s for s, _ in frames]
    assert seqs == sorted(seqs) and len(set(seqs)) == 6
    assert all(j.startswith(b"\xff\xd8") and j.endswith(b"\xff\xd9") for _, j in frames)
    assert len({j for _, j in frames}) >= 5


def test_two_viewers_each_get_frames_and_share_encodes(live_server):
    """Both viewers watch the same frames, and each frame is encoded once for both.

    On a busy machine the second viewer can connect after the first has read many frames,
    and the first one's socket may hold frames sent before the second was watching. So each
    viewer reads until a frame 8 newer than the later of the two first frames.
    """
    results: dict[int, list] = {}
    first_seqs: dict[int, int] = {}
    last_seq = {"value": 0}

    def both_watching() -> None:
        last_seq["value"] = max(first_seqs.values()) + 8

    barrier = threading.Barrier(2, action=both_watching)

    def viewer(i: int) -> None:
        got = results[i] = []
        for seq, jpeg in mjpeg_parts(live_server.url + "/stream.mjpg"):
            got.append((seq, jpeg))
            if len(got) == 1:
                first_seqs[i] = seq
                barrier.wait(20)
            if seq >= last_seq["value"]:
                break

    threads = [threading.Thread(target=viewer, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(results[i][-1][0] >= last_seq["value"] for i in range(2)), results.keys()
    # the same frame number carries the very same JPEG bytes for both viewers (encoded once)
    common = dict(results[0]).keys() & dict(results[1]).keys()
    assert common, (first_seqs, [[s for s, _ in results[i]] for i in range(2)])
    assert all(dict(results[0])[s] == dict(results[1])[s] for s in common)
    _, stats = get_json(live_server.url + "/stream/stats")
    assert stats["encodes"] <= stats["camera_seq"]


def test_bench_api_and_json_errors(live_server):
    status, body = get_json(live_server.url + "/api/bench")
    assert status == 200 and set(body["devices"]) >= {"led", "rgb", "servo", "button", "distance"}
    status, body = get_json(live_server.url + "/api/nothing-here")
    assert status == 404 and body["error"]["code"] == "not_found"
    req = urllib.request.Request(live_server.url + "/api/bench/input", method="POST",
                                 data=b'{"device":"button","action":"press"}',
                                 headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 400  # no CSRF token: refused
    assert json.loads(err.value.read())["error"]["code"] == "csrf"


def test_sse_streams_bench_state(live_server):
    with urllib.request.urlopen(live_server.url + "/events?topics=bench", timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")
        deadline = time.monotonic() + 10
        event = None
        while time.monotonic() < deadline:
            line = r.readline().decode()
            if line.startswith("event: bench.state"):
                event = json.loads(r.readline().decode().removeprefix("data: "))
                break
    assert event is not None and event["led"]["type"] == "LED"


def test_home_page_is_chinese_by_default_and_english_on_request(live_server):
    with urllib.request.urlopen(live_server.url + "/", timeout=10) as r:
        html = r.read().decode()
    assert 'lang="zh-CN"' in html and "虚拟实验台" in html
    with urllib.request.urlopen(live_server.url + "/?lang=en", timeout=10) as r:
        assert "Virtual bench" in r.read().decode()
    assert not re.search(r'(src|href)="(https?:)?//', html), "page references an outside host"


def test_pages_forbid_outside_sources(live_server):
    with urllib.request.urlopen(live_server.url + "/", timeout=10) as r:
        csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "connect-src 'self'" in csp
