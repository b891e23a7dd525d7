"""The writer a power-cut trial kills: it saves what a class saves (lab runs with steps,
kept pictures, trained models, /learn samples) as fast as it can, and appends one line per
save *after* the save returned to `log` — so a line in the log is a promise the kit made.

It is forked from a forkserver that has imported numpy and the store already: a trial then
starts in milliseconds instead of the second a fresh interpreter needs for its imports.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from labkit.learn.dataset import ProjectStore
from labkit.store import Store


def write_until_killed(data: str, state: dict[str, Any], seed: int, log: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def said(line: str) -> None:
        os.write(fd, (line + "\n").encode())        # one write: a kill leaves it whole or absent

    store = Store(Path(data))
    projects = ProjectStore(Path(data))
    project = projects.get(state["project"])
    said("ready")
    rng = np.random.default_rng(seed)
    n = 0
    while True:
        n += 1
        kind = n % 4
        if kind == 0:      # a lab run with its steps, then ended
            run = store.runs.start(state["kid"], lesson_id="face_led", project_id="face_led",
                                   steps_total=3)
            for i in range(3):
                store.runs.record_step(run, f"s{i}", "c", "x" * 500)
            store.runs.end(run, "stopped")
            said(json.dumps(["run", run]))
        elif kind in (1, 2):   # a kept picture or a trained model in the portfolio
            blob = rng.bytes(int(rng.integers(20_000, 400_000)))
            art = (store.artefacts.save(state["run"], "sample", "照片", b"\xff\xd8\xff" + blob,
                                        ".jpg") if kind == 1 else
                   store.artefacts.save(state["run"], "model", "模型", blob, ".onnx"))
            said(json.dumps(["artefact", art.id, art.sha256]))
        else:                  # a /learn sample
            image = rng.integers(0, 255, (96, 96, 3), dtype=np.uint8)
            sample = project.add_sample(project.classes[n % 2].id, image)
            said(json.dumps(["sample", project.classes[n % 2].id, sample.id]))
