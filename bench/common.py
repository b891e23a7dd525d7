"""Helpers shared by the benchmarks: where results go and how they are written."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

# LABKIT_BENCH_RESULTS moves the output (the harness test writes into a temp folder)
RESULTS = Path(os.environ.get("LABKIT_BENCH_RESULTS")
               or Path(__file__).resolve().parent / "results")


def machine() -> dict[str, Any]:
    """Where and when a figure was measured, with the load the machine had (a run beside
    other work, e.g. CI's quick run next to the test suite, reads higher)."""
    return {"python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "load_average_1min": round(os.getloadavg()[0], 2)}


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "machine": machine(), **data}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {path}")
    return path
