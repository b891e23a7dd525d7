"""The benchmark harness in quick mode: it runs, and writes JSON with the keys the summary,
the plot and bench/README.md read (speed itself is not tested)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import REPO


@pytest.mark.slow
def test_quick_stream_bench_writes_valid_json_summary_and_plot(tmp_path):
    env = {**os.environ, "LABKIT_BENCH_RESULTS": str(tmp_path), "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-m", "bench", "--quick", "stream"], cwd=str(REPO),
                         env=env, capture_output=True, text=True, timeout=400)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    result = json.loads((tmp_path / "stream.json").read_text())
    assert result["benchmark"] == "stream" and result["quick"] is True
    assert {"python", "machine", "cpus", "when"} <= set(result["machine"])
    servers = {s["server"] for s in result["servers"]}
    assert servers == {"waitress", "uvicorn"}  # a baseline and the kit's design, same run
    for row in result["summary"]:
        assert {"server", "clients", "healthz_p95_ms", "api_p95_ms", "probe_failures",
                "healthz_p95_ratio_to_idle", "rss_growth_kb_per_client",
                "mjpeg_fps_per_viewer", "failed_connections",
                "slow_stale_frames_max"} <= set(row)
    kit_row = next(r for r in result["summary"] if r["server"] == "uvicorn")
    assert kit_row["clients"] >= 200 and kit_row["failed_connections"] == 0
    assert kit_row["probe_failures"] == 0 and kit_row["healthz_p95_ms"] is not None
    summary = (tmp_path / "summary.md").read_text()
    assert "| uvicorn | 200 |" in summary
    assert (tmp_path / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
