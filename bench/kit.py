"""The whole kit at once: one lab running while a class watches and polls.

One process, as on a Pi: KitRuntime (synthetic camera, simulated pins), the web app under the
kit's server (labkit/web/asgi.py) on 127.0.0.1, and the `face_led` lab running — camera →
face detector → `led.source` (gpiozero) → the event log. Meanwhile a separate load process
(bench/load.py) holds 10 MJPEG viewers, 20 SSE clients and 20 JSON-API pollers.

Measured over the run (sampled once a second): capture FPS (camera frames), inference FPS
(detector results published), frame → GPIO latency p50/p95 (each LED rise in the lab's event
log against the capture time of the first frame that showed the face), API latency p50/p95,
the process's CPU % and RSS over time (growth first → last third, goal ≤ 10 %).

The lab wanted here is camera → hands → gesture → LED; this branch has no such lab yet, so the
face → LED lab stands in: the same path (camera thread, one detector, a gpiozero source, the
runner's event log), with a lighter model. Swap `LAB` when a gesture lab lands.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from bench.common import write_result
from bench.stream import load_result, rss_mb
from tests.helpers import REPO, free_port

LAB = "face_led"


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(q * (len(values) - 1))))], 2)


def main(quick: bool = False) -> dict[str, Any]:
    from bench.models import _store as models_store
    from labkit.config import Settings
    from labkit.projects.runner import LabRunner
    from labkit.runtime import KitRuntime
    from labkit.web import create_app
    from labkit.web.asgi import KitASGI, uvicorn_server

    seconds = 25.0 if quick else 300.0
    with tempfile.TemporaryDirectory() as tmp:
        models = models_store()
        settings = Settings(data_dir=Path(tmp), hardware="sim", camera="synthetic",
                            microphone="simulated", host="127.0.0.1", threads=2,
                            port=free_port())
        runtime = KitRuntime(settings)
        runtime.services["model_store"] = models
        # capture time of every frame, by frame number, to time frame → GPIO
        source = runtime.camera.source
        captured: deque[tuple[int, float]] = deque(maxlen=20000)
        grab = source.grab

        def timed_grab() -> Any:
            n = source._n
            image = grab()
            captured.append((n, time.time()))
            return image
        source.grab = timed_grab
        app = create_app(settings, runtime)
        server, sock = uvicorn_server(KitASGI(app, threads=16), host="127.0.0.1",
                                      port=settings.port)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        runner = LabRunner.for_runtime(runtime)
        inferences = runtime.bus.subscribe("vision", maxsize=100000)
        lab = runner.start(LAB)
        load = subprocess.Popen(
            [sys.executable, "-m", "bench.load", "--port", str(settings.port), "--mjpeg", "10",
             "--sse", "20", "--api", "20", "--api-interval", "0.5", "--seconds", str(seconds)],
            cwd=str(REPO), stdout=subprocess.PIPE, text=True)
        samples = []
        t_start = time.monotonic()
        last_cpu, last_t = _cpu_seconds(), time.monotonic()
        seq0 = runtime.camera.read().seq if runtime.camera.read() else 0
        n_inf = 0
        try:
            while time.monotonic() - t_start < seconds:
                time.sleep(1.0)
                while inferences.get_nowait() is not None:
                    n_inf += 1
                now, cpu = time.monotonic(), _cpu_seconds()
                frame = runtime.camera.read()
                samples.append({"t": round(now - t_start, 2), "rss_mb": rss_mb(os.getpid()),
                                "cpu_pct": round(100 * (cpu - last_cpu) / (now - last_t), 1),
                                "camera_seq": frame.seq if frame else 0, "inferences": n_inf})
                last_cpu, last_t = cpu, now
            clients = load_result(load, 60)
        finally:
            if load.poll() is None:
                load.kill()
            led_rises = lab.log.rises("led")
            runner.stop()
            inferences.close()
            server.should_exit = True
            thread.join(timeout=10)
            runtime.close()
    period = round((source.FACE_IN_SECONDS + source.FACE_AWAY_SECONDS) * source.fps)
    appear = [ts for n, ts in captured if n % period == 0]   # first frame with the face
    latencies = []
    for rise in led_rises:
        before = [ts for ts in appear if ts <= rise]
        if before and rise - before[-1] < period / source.fps / 2:
            latencies.append((rise - before[-1]) * 1000)
    dur = samples[-1]["t"] if samples else seconds
    frames = (samples[-1]["camera_seq"] - seq0) if samples else 0
    third = max(1, len(samples) // 3)
    rss_first = statistics.median(s["rss_mb"] for s in samples[:third])
    rss_last = statistics.median(s["rss_mb"] for s in samples[-third:])
    api = clients.get("api_ms", [])
    result = {
        "quick": quick, "seconds": seconds, "lab": LAB,
        "clients": {"mjpeg": 10, "sse": 20, "api_pollers": 20,
                    "failed": len(clients.get("failed", []))},
        "capture_fps": round(frames / dur, 2),
        "inference_fps": round(n_inf / dur, 2),
        "mjpeg_fps_per_viewer": round(statistics.mean(clients.get("mjpeg_frames") or [0]) /
                                      seconds, 2),
        "frame_to_gpio_ms": {"n": len(latencies), "p50": _pct(latencies, 0.5),
                             "p95": _pct(latencies, 0.95)},
        "api_ms": {"n": len(api), "p50": _pct(api, 0.5), "p95": _pct(api, 0.95),
                   "by_path_p95": {k: _pct(v, 0.95)
                                   for k, v in clients.get("api_ms_by_path", {}).items()}},
        "cpu_pct_median": round(statistics.median(s["cpu_pct"] for s in samples[1:] or samples), 1),
        "rss_mb": {"first_third": round(rss_first, 1), "last_third": round(rss_last, 1),
                   "growth_ratio": round(rss_last / rss_first, 3), "goal_growth_ratio": 1.10},
        "timeline": samples,
    }
    print(f"kit: capture {result['capture_fps']} fps, inference {result['inference_fps']} fps, "
          f"frame→GPIO p50/p95 {result['frame_to_gpio_ms']['p50']}/"
          f"{result['frame_to_gpio_ms']['p95']} ms, API p95 {result['api_ms']['p95']} ms, "
          f"CPU {result['cpu_pct_median']} %, RSS {rss_first}→{rss_last} MB")
    write_result("kit", result)
    return result


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
