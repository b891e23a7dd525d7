"""MJPEG live-view benchmark against a real `labkit serve` on 127.0.0.1.

Measures, in one run: frames per second each viewer receives with 1 and with 10 concurrent
viewers (ratio, goal ≥ 0.9), JPEG encodes per second vs camera frames captured (goal: encodes ==
frames, not frames × viewers), cold start to the first 200 on /healthz (goal ≤ 2 s) and the
server's resident memory. Traffic goes only to 127.0.0.1 and every loop is bounded in time.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from bench.common import write_result
from tests.helpers import start_server

SECONDS = 6.0


def count_frames(url: str, seconds: float, out: list[int]) -> None:
    frames = 0
    deadline = time.monotonic() + seconds
    with urllib.request.urlopen(url, timeout=seconds + 10) as r:
        while time.monotonic() < deadline:
            line = r.readline()
            if line.startswith(b"Content-Length:"):
                length = int(line.split(b":")[1])
                r.readline()  # X-Frame-Seq
                r.readline()  # blank
                r.read(length)
                frames += 1
    out.append(frames)


def stats(base: str) -> dict:
    with urllib.request.urlopen(base + "/stream/stats", timeout=10) as r:
        return json.loads(r.read())


def viewers_run(base: str, n: int) -> dict:
    results: list[int] = []
    before = stats(base)
    t0 = time.monotonic()
    threads = [threading.Thread(target=count_frames, args=(base + "/stream.mjpg", SECONDS, results))
               for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SECONDS + 30)
    elapsed = time.monotonic() - t0
    after = stats(base)
    captured = after["camera_seq"] - before["camera_seq"]
    encodes = after["encodes"] - before["encodes"]
    return {"viewers": n, "fps_per_viewer": [round(f / SECONDS, 2) for f in results],
            "mean_fps_per_viewer": round(sum(results) / max(len(results), 1) / SECONDS, 2),
            "camera_frames": captured, "jpeg_encodes": encodes,
            "encodes_per_captured_frame": round(encodes / captured, 3) if captured else None,
            "encodes_per_second": round(encodes / elapsed, 2)}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "data")
        try:
            cold_start = server.started_in
            one = viewers_run(server.url, 1)
            ten = viewers_run(server.url, 10)
            rss = rss_mb(server.proc.pid)
        finally:
            server.stop()
    ratio = ten["mean_fps_per_viewer"] / one["mean_fps_per_viewer"] if one["mean_fps_per_viewer"] else 0
    result = {
        "one_viewer": one, "ten_viewers": ten,
        "fps_ratio_10_vs_1": round(ratio, 3), "fps_ratio_goal": ">= 0.9",
        "encodes_per_frame_10_viewers": ten["encodes_per_captured_frame"],
        "encodes_goal": "== 1.0 (one encode per captured frame, shared by all viewers)",
        "cold_start_s": round(cold_start, 3), "cold_start_goal_s": 2.0,
        "cold_start_ratio_to_goal": round(cold_start / 2.0, 3),
        "server_rss_mb_after_10_viewers": rss,
    }
    print(f"fps/viewer: 1 viewer {one['mean_fps_per_viewer']}, 10 viewers "
          f"{ten['mean_fps_per_viewer']} → ratio {ratio:.2f} (goal ≥ 0.9)")
    print(f"encodes per captured frame with 10 viewers: {ten['encodes_per_captured_frame']} "
          f"(goal 1.0)")
    print(f"cold start {cold_start:.2f} s (goal ≤ 2 s, ratio {cold_start / 2:.2f}); RSS {rss} MB")
    write_result("stream", result)


if __name__ == "__main__":
    main()
