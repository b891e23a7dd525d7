"""Resident memory of the kit against its floor, with the face, hands and pose pages open and
after a training.

Two fresh processes in one run:
- *kit*: KitRuntime + the web app, the face/hands/pose live detectors running (as their pages
  start them) with a live-view viewer attached; RSS sampled; then an image project of 4 × N
  pictures trained through the learn service (child process) and one live prediction; RSS
  again after the training. The pictures are generated and saved one at a time; the bench
  keeps none of them afterwards (the kit does not either: they are on disk).
- *floor*: a bare process holding the same libraries (Flask, OpenCV, NumPy, LiteRT, ONNX
  Runtime) and the same models, each run once: the face/hand/pose models, and for the
  after-training figure also the image embedder and the trained model in ONNX Runtime
  sessions (what the kit keeps for live prediction).

The figure is the ratio kit / floor (goal ≤ 1.25).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import write_result
from tests.helpers import REPO

KIT = r'''
import json, sys, time, threading
from pathlib import Path
from tests.helpers import standard_model_store

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

from labkit.config import Settings
from labkit.runtime import KitRuntime
from labkit.web import create_app
from labkit.web.vision import LiveVision
from labkit.web.stream import FrameBroadcaster

tmp, per_class, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
settings = Settings(data_dir=Path(tmp), hardware="sim", camera="synthetic",
                    microphone="simulated", host="127.0.0.1", threads=2)
runtime = KitRuntime(settings)
store = standard_model_store(threads=2)
runtime.services["model_store"] = store
app = create_app(settings, runtime)
live = runtime.service("vision.live", lambda: LiveVision(runtime))
frames = runtime.service("mjpeg", lambda: FrameBroadcaster(runtime.camera))
stop = threading.Event()
def viewer():
    for _ in frames.stream():
        if stop.is_set():
            break
threading.Thread(target=viewer, daemon=True).start()
for slug in ("face", "hands", "pose"):
    live.watch(slug)
samples = []
for _ in range(16):
    time.sleep(0.5)
    for slug in ("face", "hands", "pose"):
        live.watch(slug)
    samples.append(rss())
pages = max(samples[-6:])
runs = {slug: live.get(slug).runs for slug in ("face", "hands", "pose")}

from labkit.learn.service import LearnService
from labkit.learn.synthetic import SHAPES, shapes_dataset
service = LearnService(runtime, store=store)
project = service.projects.create("bench", "image", list(SHAPES))
ids = {c.name: c.id for c in project.classes}
def record():
    # the pictures a student saves one by one: once saved, the kit holds none of them (the
    # bench's own generated list goes when this returns, as the floor holds none either)
    images, labels = shapes_dataset(per_class, SHAPES, seed=0)
    for img, lbl in zip(images, labels):
        s = project.add_sample(ids[lbl], img)
        service.sample_saved(project, s.id)
record()
service._features.wait_idle(project.id, 600)
service._worker.wait_ready(600)
service.start_training(project.id)
while service.job(project.id)["state"] == "running":
    time.sleep(0.1)
job = service.job(project.id)
pred = service.predict_live(project.id, act=False)
after = []
for _ in range(10):
    time.sleep(0.5)
    for slug in ("face", "hands", "pose"):
        live.watch(slug)
    after.append(rss())
stop.set()
# the kept graph is sealed at rest (labkit.atrest): the floor loads a clear copy of it
from labkit.learn.model import read_graph
model = out + ".model.onnx"
Path(model).write_bytes(read_graph(project))
json.dump({"pages_rss_mb": round(pages, 1), "after_training_rss_mb": round(max(after), 1),
           "detector_runs": runs, "train_state": job["state"], "label": pred["label"],
           "model_path": model}, open(out, "w"))
'''

FLOOR = r'''
import json, sys
import numpy as np, cv2, flask, flask_babel, onnxruntime as ort
from tests.helpers import standard_model_store

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

store = standard_model_store(threads=2)
models = [store.load(n) for n in ("face_detection_short_range", "palm_detection_lite",
                                  "hand_landmark_lite", "pose_detection", "pose_landmark_full")]
for m in models:
    feeds = {t.name: np.zeros([d if d else 1 for d in t.shape], t.dtype)
             for t in m.inputs}
    m.run(feeds)
frames = [np.zeros((480, 640, 3), np.uint8) for _ in range(3)]
cv2.imencode(".jpg", frames[0])
pages = rss()
opts = ort.SessionOptions(); opts.intra_op_num_threads = 2
sessions = []
for path in (str(store.path("efficientnet_lite0_features")), sys.argv[1]):
    s = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    inp = s.get_inputs()[0]
    s.run(None, {inp.name: np.zeros([d if isinstance(d, int) else 1 for d in inp.shape],
                                    np.float32)})
    sessions.append(s)
print(json.dumps({"pages_rss_mb": round(pages, 1), "after_training_rss_mb": round(rss(), 1)}))
'''


def _run(code: str, *args: str, timeout: float = 900) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO), "LABKIT_HARDWARE": "sim"}
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=str(REPO), env=env,
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    return out.stdout


def main(quick: bool = False) -> dict[str, Any]:
    per_class = 8 if quick else 50
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "kit.json"
        _run(KIT, str(Path(tmp) / "data"), str(per_class), str(report))
        kit = json.loads(report.read_text())
        floor = json.loads(_run(FLOOR, kit["model_path"]).strip().splitlines()[-1])
    result = {
        "quick": quick, "samples": per_class * 4, "kit": kit, "floor": floor,
        "pages_ratio": round(kit["pages_rss_mb"] / floor["pages_rss_mb"], 3),
        "after_training_ratio": round(kit["after_training_rss_mb"] /
                                      floor["after_training_rss_mb"], 3),
        "goal_ratio": 1.25,
    }
    print(f"memory: pages open {kit['pages_rss_mb']} MB vs floor {floor['pages_rss_mb']} MB "
          f"(×{result['pages_ratio']}); after training {kit['after_training_rss_mb']} MB vs "
          f"{floor['after_training_rss_mb']} MB (×{result['after_training_ratio']})")
    write_result("memory", result)
    return result


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
