"""Figures of the reliability suite, gathered into `bench/results/reliability.json`.

Each test records what it did (trials, faults injected, inputs tried, failures); the file is
rewritten key by key so one test run updates its own section and keeps the others.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "reliability.json"
_lock = threading.Lock()


def record(section: str, figures: dict[str, Any]) -> None:
    with _lock:
        try:
            data = json.loads(RESULTS.read_text("utf-8"))
        except (OSError, ValueError):
            data = {}
        data[section] = {**figures, "failures": figures.get("failures", 0),
                         "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        tmp = RESULTS.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                       "utf-8")
        tmp.replace(RESULTS)
