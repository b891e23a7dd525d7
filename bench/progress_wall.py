"""The progress wall with a class of 40 students streaming: update latency, against raw SSE.

One process: the store, the event bus and the wall's async SSE body (labkit/web/lessons.py)
on an event loop, as under the kit's server. 40 simulated students each pass the steps of
their lab at seeded random moments (a step recorded in the store, then the runner's
`lab.step` event). For every step we take the time from the event's publication until a
wall snapshot that shows it is written to the teacher's stream (each snapshot queries the
store for the whole class). Baseline, in the same run on the same events: the plain `/events`
SSE body (labkit/web/events.py) forwarding the bare event — what any live view costs.

    python -m bench progress_wall        # JSON in bench/results/progress_wall.json

Reported: p50/p95 latency of both, the ratio wall/raw at p95, snapshots written, and the goal
(wall p95 ≤ 300 ms).
"""

from __future__ import annotations

import asyncio
import json
import random
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import write_result

STUDENTS = 40
STEPS = 4
GOAL_P95_MS = 300.0


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 1)


class RecordingSink:
    """Stands for the HTTP response: remembers when each chunk was written."""

    def __init__(self) -> None:
        self.closed = False
        self.writes: list[tuple[float, bytes]] = []

    async def write(self, data: bytes) -> None:
        self.writes.append((time.perf_counter(), data))


def _wall_states(data: bytes) -> dict[int, int]:
    """{run id: steps passed} in one wall chunk (empty for keep-alives)."""
    out: dict[int, int] = {}
    for block in data.decode("utf-8").split("\n\n"):
        if block.startswith("event: wall"):
            payload = json.loads(block.split("data: ", 1)[1])
            for s in payload["students"]:
                if s["run_id"] is not None:
                    out[s["run_id"]] = s["steps_passed"]
    return out


def _raw_steps(data: bytes) -> set[tuple[int, str]]:
    out = set()
    for block in data.decode("utf-8").split("\n\n"):
        if block.startswith("event: lab.step"):
            payload = json.loads(block.split("data: ", 1)[1])
            out.add((payload["run_id"], payload["step"]))
    return out


def main(quick: bool = False) -> dict[str, Any]:
    from labkit.config import Settings
    from labkit.runtime import KitRuntime
    from labkit.store import Store
    from labkit.web import create_app, events, lessons

    seconds = 8.0 if quick else 20.0
    rng = random.Random(16)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), hardware="sim", camera="synthetic",
                            microphone="simulated", host="127.0.0.1", threads=2)
        runtime = KitRuntime(settings)
        app = create_app(settings, runtime)
        store = Store.for_runtime(runtime)
        cls = store.roster.add_class("初一(3)班")
        store.classroom.set_grade(cls.id, 7)
        kids = store.roster.add_students(cls.id, [f"学生{i:02d}" for i in range(STUDENTS)],
                                         [str(i + 1) for i in range(STUDENTS)])
        session = store.classroom.start(cls.id, ["face_led"])
        runs = [store.runs.start(k.id, lesson_id="face_led", project_id="face_led",
                                 steps_total=STEPS) for k in kids]
        with app.test_request_context("/"):
            snapshot = lessons._snapshot_fn(session.id, lessons.STUCK_AFTER_S)
        wall_sink, raw_sink = RecordingSink(), RecordingSink()
        wall_sub = runtime.bus.subscribe("lab.state", "lab.step", "lab.error")
        raw_sub = runtime.bus.subscribe("lab.step")
        loop = asyncio.new_event_loop()
        tasks: list[Any] = []

        def run_loop() -> None:
            asyncio.set_event_loop(loop)
            tasks.append(loop.create_task(lessons._wall_astream(wall_sub, snapshot, wall_sink)))
            tasks.append(loop.create_task(events._astream(raw_sub, [], raw_sink)))
            loop.run_forever()

        thread = threading.Thread(target=run_loop, daemon=True)
        thread.start()
        time.sleep(0.5)
        # every step of every student at a seeded moment within the run
        plan = sorted((rng.uniform(0.2, seconds), i, step)
                      for i in range(STUDENTS) for step in range(STEPS))
        published: list[tuple[float, int, int, str]] = []
        passed_so_far = [0] * STUDENTS
        t0 = time.perf_counter()
        for at, i, step in plan:
            delay = t0 + at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            step_id = f"s{step}"
            store.runs.record_step(runs[i], step_id, "c")
            when = time.perf_counter()
            runtime.bus.publish("lab.step", {"run_id": runs[i], "step": step_id})
            passed_so_far[i] += 1
            published.append((when, runs[i], passed_so_far[i], step_id))
        time.sleep(1.5)
        loop.call_soon_threadsafe(lambda: [t.cancel() for t in tasks])
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        runtime.close()

    wall_seen = [(t, _wall_states(d)) for t, d in wall_sink.writes]
    raw_seen = [(t, _raw_steps(d)) for t, d in raw_sink.writes]
    wall_ms, raw_ms, missed = [], [], 0
    for when, run_id, passed, step_id in published:
        shown = next((t for t, states in wall_seen
                      if t >= when and states.get(run_id, 0) >= passed), None)
        forwarded = next((t for t, steps in raw_seen
                          if t >= when and (run_id, step_id) in steps), None)
        if shown is None or forwarded is None:
            missed += 1
            continue
        wall_ms.append((shown - when) * 1000)
        raw_ms.append((forwarded - when) * 1000)
    wall_p95, raw_p95 = _pct(wall_ms, 0.95), _pct(raw_ms, 0.95)
    result = {
        "students": STUDENTS, "steps": len(published), "seconds": seconds,
        "wall_ms": {"p50": _pct(wall_ms, 0.5), "p95": wall_p95},
        "raw_sse_ms": {"p50": _pct(raw_ms, 0.5), "p95": raw_p95},
        "ratio_p95_wall_over_raw": (round(wall_p95 / raw_p95, 1)
                                    if wall_p95 is not None and raw_p95 else None),
        "snapshots_written": sum(1 for _t, s in wall_seen if s),
        "missed": missed,
        "goal_wall_p95_ms": GOAL_P95_MS,
        "goal_met": wall_p95 is not None and wall_p95 <= GOAL_P95_MS and missed == 0,
    }
    write_result("progress_wall", result)
    print(json.dumps(result, ensure_ascii=False))
    return result
