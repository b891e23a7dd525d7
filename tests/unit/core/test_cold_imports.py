"""Nothing heavy on the way to the first page or into a student program (cold start).

scipy, scikit-learn, skl2onnx, onnx, onnxruntime and LiteRT each cost a large share of a Pi's
start-up time and memory; they are imported where they are first used, never at import time.
Checked in a fresh interpreter through `sys.modules`.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import REPO, labkit_env

HEAVY = ("scipy", "sklearn", "skl2onnx", "onnx", "onnxruntime", "ai_edge_litert",
         "tflite_runtime", "jsonschema", "rapidocr", "pocketsphinx", "matplotlib")


def _loaded_after(code: str, tmp_path) -> list[str]:
    probe = (f"{code}\nimport sys, json\n"
             f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    env = labkit_env(tmp_path / "data")
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, "-c", probe], cwd=str(REPO), env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


START = ("import labkit.web, labkit.cli, labkit.web.asgi\n"
         "from labkit.web import create_app\n"
         "app = create_app()\n"
         "c = app.test_client()\n"
         "assert c.get('/healthz').status_code == 200\n")


def test_web_app_start_imports_nothing_heavy(tmp_path):
    assert _loaded_after(START, tmp_path) == []


def test_first_page_imports_only_the_lesson_validator(tmp_path):
    """The home page lists the lessons, so it validates them (jsonschema) — nothing else."""
    code = START + "assert c.get('/').status_code == 200\n"
    assert _loaded_after(code, tmp_path) in ([], ["jsonschema"])


@pytest.mark.parametrize("code", [
    "import labkit.vision",
    "import labkit.drivers",
    "from labkit.drivers import Camera\nfrom labkit.vision import FaceDetector",
])
def test_student_program_imports_nothing_heavy(tmp_path, code):
    assert _loaded_after(code, tmp_path) == []


def test_the_probe_sees_a_heavy_import(tmp_path):
    """The check above can fail: a program that does import scipy is caught."""
    assert "scipy" in _loaded_after("from labkit.drivers.wav import to_int16_mono\n"
                                    "import numpy as np\n"
                                    "to_int16_mono(np.zeros(441, np.int16), 44100)", tmp_path)
