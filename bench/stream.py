"""Live views at classroom scale, per server design, against real `labkit serve` processes.

For each server (`labkit serve --server waitress|uvicorn|hypercorn`), in one run:
- `/healthz` and the JSON API (`/api/bench`) latency p50/p95 with no client (the baseline) and
  with N concurrent live-view clients (half MJPEG, half SSE, in a separate load process,
  bench/load.py), as a ratio to that baseline;
- server RSS idle and under load → memory per client; a few *slow* viewers that stop reading:
  how much memory they pin and how many stale frames they get when they read again;
- frames per second each MJPEG viewer received vs the camera's frames, and encodes per frame.

Every client connects to 127.0.0.1 only; every phase is bounded in time.
"""

from __future__ import annotations

import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import write_result
from tests.helpers import REPO, start_server

PROBE_PATHS = ("/healthz", "/api/bench")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def get_json(port: int, path: str, timeout: float = 10.0) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def probe(port: int, seconds: float, interval: float = 0.05, timeout: float = 2.0
          ) -> dict[str, Any]:
    """Latency of the probe paths, one request at a time (a fresh connection each)."""
    lat: dict[str, list[float]] = {p: [] for p in PROBE_PATHS}
    failures = 0
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        path = PROBE_PATHS[i % len(PROBE_PATHS)]
        i += 1
        t0 = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            conn.request("GET", path, headers={"Connection": "close"})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status != 200:
                failures += 1
            else:
                lat[path].append((time.perf_counter() - t0) * 1000)
        except OSError:
            failures += 1
        time.sleep(interval)
    return {"failures": failures, **{p: summarise(v) for p, v in lat.items()}}


def summarise(ms: list[float]) -> dict[str, Any]:
    if not ms:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None}
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2), "p95_ms": round(p95, 2),
            "max_ms": round(ms[-1], 2)}


def load(port: int, mjpeg: int, sse: int, seconds: float, slow: int = 0,
         slow_pause: float = 4.0) -> tuple[subprocess.Popen[str], threading.Event]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.load", "--port", str(port), "--mjpeg", str(mjpeg),
         "--sse", str(sse), "--seconds", str(seconds), "--slow", str(slow),
         "--slow-pause", str(slow_pause)],
        cwd=str(REPO), stdout=subprocess.PIPE, text=True)
    started = threading.Event()

    def wait_started() -> None:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line:
            started.set()
    threading.Thread(target=wait_started, daemon=True).start()
    return proc, started


def load_result(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    return json.loads(lines[-1]) if lines else {"error": "load process gave no result"}


def run_level(server: Any, clients: int, seconds: float, slow: int) -> dict[str, Any]:
    """One load level: `clients` live views (half MJPEG, half SSE) + `slow` stalled viewers."""
    port = server.port
    mjpeg, sse = clients - clients // 2, clients // 2
    before = get_json(port, "/stream/stats")
    proc, started = load(port, mjpeg, sse, seconds, slow, slow_pause=seconds * 0.5)
    started.wait(20)
    time.sleep(min(2.0, seconds * 0.2))  # let the connections open
    rss: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            rss.append(rss_mb(server.proc.pid))
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    lat = probe(port, max(1.0, seconds * 0.6))
    stop.set()
    sampler.join()
    result = load_result(proc, seconds + 40)
    try:
        after = get_json(port, "/stream/stats")
    except OSError:
        after = before
    frames = result.get("mjpeg_frames", [])
    captured = after["camera_seq"] - before["camera_seq"]
    encodes = after["encodes"] - before["encodes"]
    return {
        "clients": clients, "mjpeg": mjpeg, "sse": sse, "slow_viewers": slow,
        "latency": lat,
        "rss_mb_max": max(rss) if rss else None,
        "mjpeg_fps_per_viewer_mean": (round(sum(frames) / len(frames) / seconds, 2)
                                      if frames else 0.0),
        "camera_fps": round(captured / seconds, 2),
        "encodes_per_captured_frame": round(encodes / captured, 3) if captured else None,
        "sse_clients_with_events": sum(1 for e in result.get("sse_events", []) if e > 0),
        "failed_connections": len(result.get("failed", [])),
        "failed_examples": result.get("failed", [])[:3],
        "slow": result.get("slow", []),
    }


def measure_server(kind: str, levels: list[int], seconds: float, slow: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "data", args=["--server", kind])
        try:
            get_json(server.port, "/stream/stats")
            idle = probe(server.port, 3.0)
            rss_idle = rss_mb(server.proc.pid)
            runs = [run_level(server, n, seconds, slow) for n in levels]
        finally:
            server.stop()
    base95 = idle["/healthz"]["p95_ms"] or 1.0
    for run in runs:
        p95 = run["latency"]["/healthz"]["p95_ms"]
        api95 = run["latency"]["/api/bench"]["p95_ms"]
        run["healthz_p95_ratio_to_idle"] = round(p95 / base95, 2) if p95 else None
        run["api_p95_ms"] = api95
        extra = (run["rss_mb_max"] or rss_idle) - rss_idle
        n = run["clients"] + run["slow_viewers"]
        run["rss_growth_mb"] = round(extra, 1)
        run["rss_growth_kb_per_client"] = round(extra * 1024 / n, 1) if n else None
    return {"server": kind, "idle": idle, "rss_idle_mb": rss_idle, "levels": runs}


def main(quick: bool = False) -> dict[str, Any]:
    if quick:
        plan = {"waitress": [40], "uvicorn": [200]}
        seconds, slow = 6.0, 3
    else:
        plan = {"waitress": [20, 40, 60], "uvicorn": [50, 100, 200, 300],
                "hypercorn": [50, 100, 200, 300]}
        seconds, slow = 12.0, 5
    servers = [measure_server(kind, levels, seconds, slow) for kind, levels in plan.items()]
    summary = []
    for s in servers:
        for run in s["levels"]:
            lat = run["latency"]
            summary.append({
                "server": s["server"], "clients": run["clients"],
                "healthz_p95_ms": lat["/healthz"]["p95_ms"], "api_p95_ms": run["api_p95_ms"],
                "probe_failures": lat["failures"],
                "healthz_p95_ratio_to_idle": run["healthz_p95_ratio_to_idle"],
                "rss_growth_kb_per_client": run["rss_growth_kb_per_client"],
                "mjpeg_fps_per_viewer": run["mjpeg_fps_per_viewer_mean"],
                "camera_fps": run["camera_fps"],
                "failed_connections": run["failed_connections"],
                "slow_stale_frames_max": max((x.get("stale_frames", 0) for x in run["slow"]),
                                             default=None)})
    for row in summary:
        print(json.dumps(row))
    result = {"quick": quick, "seconds_per_level": seconds, "servers": servers,
              "summary": summary,
              "goals": {"clients": ">= 200", "healthz_and_api_p95_ms": "<= 50",
                        "rss_growth_kb_per_client": "<= 1024 beyond the shared frame",
                        "slow viewers": "latest frame, no backlog"}}
    write_result("stream", result)
    return result


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
