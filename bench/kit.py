"""The whole kit at once: one lab running while a class watches and polls.

One process, as on a Pi: KitRuntime (synthetic camera, simulated pins), the web app under the
kit's server (labkit/web/asgi.py) on 127.0.0.1, and the `gesture_remote` lab running — camera →
palm detector + hand landmarks → gesture → `rgb.color` / `buzzer.source` (gpiozero) → the
event log. The camera plays a repeating scene: an open hand (1.5 s), the hand closing to a fist
(2.5 s), nobody (1 s) — the fist is what the buzzer follows. Meanwhile a separate load process
(bench/load.py) holds 10 MJPEG viewers, 20 SSE clients and 20 JSON-API pollers.

Measured over the run (sampled once a second): capture FPS (camera frames), inference FPS
(detector results published), frame → GPIO latency p50/p95 (each buzzer rise in the lab's
event log against the moment the first fist frame was rendered), API latency p50/p95, the
process's CPU % and RSS over time (growth first → last third, goal ≤ 10 %).
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

LAB = "gesture_remote"
#: the camera's repeating timeline: (seconds, scene parameters)
PHASES = ((1.5, {"gesture": "open"}), (2.5, {"gesture": "fist"}), (1.0, None))
PERIOD = sum(seconds for seconds, _ in PHASES)


def _scene_at(t: float) -> dict[str, Any] | None:
    t %= PERIOD
    for seconds, params in PHASES:
        if t < seconds:
            return params
        t -= seconds
    return None


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
    from labkit.drivers.scenes import render
    from labkit.projects.runner import LabRunner
    from labkit.runtime import KitRuntime
    from labkit.web import create_app
    from labkit.web.asgi import KitASGI, uvicorn_server

    seconds = 12.0 if quick else 300.0
    with tempfile.TemporaryDirectory() as tmp:
        models = models_store()
        settings = Settings(data_dir=Path(tmp), hardware="sim", camera="synthetic",
                            microphone="simulated", host="127.0.0.1", threads=2,
                            port=free_port())
        runtime = KitRuntime(settings)
        runtime.services["model_store"] = models
        # the moment each first fist frame is rendered, on the lab's clock, to time frame → GPIO
        fist_onsets: deque[float] = deque(maxlen=20000)
        last_fist = [False]

        def show(t: float) -> Any:
            params = _scene_at(t)
            fist = params is not None and params["gesture"] == "fist"
            if fist and not last_fist[0]:
                fist_onsets.append(runner.clock.now())
            last_fist[0] = fist
            return (render("hand", params, t) if params is not None else render("empty", {}, t))

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
        runtime.camera.play(show)
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
            buzzer_rises = lab.log.rises("buzzer")
            runtime.camera.play(None)
            runner.stop()
            inferences.close()
            server.should_exit = True
            thread.join(timeout=10)
            runtime.close()
    fist_seconds = PHASES[1][0]
    latencies = []
    for rise in buzzer_rises:
        before = [ts for ts in fist_onsets if ts <= rise]
        if before and rise - before[-1] < fist_seconds:
            latencies.append((rise - before[-1]) * 1000)
    dur = samples[-1]["t"] if samples else seconds
    frames = (samples[-1]["camera_seq"] - seq0) if samples else 0
    third = max(1, len(samples) // 3)
    rss_first = statistics.median(s["rss_mb"] for s in samples[:third])
    rss_last = statistics.median(s["rss_mb"] for s in samples[-third:])
    api = clients.get("api_ms", [])
    result = {
        "quick": quick, "seconds": seconds, "lab": LAB,
        "fists_shown": len(fist_onsets), "buzzer_rises": len(buzzer_rises),
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
