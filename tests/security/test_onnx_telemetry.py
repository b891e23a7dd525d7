"""ONNX Runtime must not phone home: every session labkit makes, offline, looks nothing up.

Without the fix a process that made three EfficientNet sessions and ran them looked up
mobile.events.data.microsoft.com 4 times and opened 2 connections to port 443 within 15 s
(onnxruntime 1.32; `disable_telemetry_events()` alone did not stop it). The test runs every
labkit path that makes a session inside a network namespace whose only resolver records.
"""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import REPO
from tests.security.netns import netns_unavailable, run_offline

MODELS = Path(os.environ.get("LABKIT_TEST_MODELS") or REPO / ".cache" / "test-data" / "models")
EMBEDDER = MODELS / "efficientnet_lite0_features" / "efficientnet_lite0_features.onnx"
VAD = MODELS / "silero_vad" / "silero_vad.onnx"

SESSIONS = textwrap.dedent(f"""
    import time
    import numpy as np
    from labkit.models.runtime import OnnxModel, onnx_session
    from labkit.models.trainable import OnnxClassifier, train_classifier
    from labkit.learn.features import EmbeddingExtractor
    from labkit.audio_ai.vad import _OnnxFile

    m = OnnxModel({str(EMBEDDER)!r})
    m.run(np.zeros((1, 3, 224, 224), np.float32))
    e = EmbeddingExtractor(open({str(EMBEDDER)!r}, "rb").read())
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 8)).astype(np.float32)
    x[:20] += 3
    clf = train_classifier(x, ["a"] * 20 + ["b"] * 20, kind="logistic", seed=0)
    OnnxClassifier(clf.to_onnx(), clf.classes).predict_proba(x[:2])
    _OnnxFile({str(VAD)!r})
    s = onnx_session({str(EMBEDDER)!r})
    s.run(None, {{s.get_inputs()[0].name: np.zeros((1, 3, 224, 224), np.float32)}})
    time.sleep(float(WAIT_S))
    import os
    print("sessions made; device id file:",
          os.path.exists(os.path.expanduser("~/.cache/Microsoft")))
""")


def _skip_reason() -> str | None:
    reason = netns_unavailable()
    if reason:
        return f"no network namespace here ({reason})"
    if not EMBEDDER.exists() or not VAD.exists():
        return f"test models missing under {MODELS} (make test fetches them)"
    return None


def test_the_harness_records_a_lookup_and_a_connection() -> None:
    """The recorder itself works: a plain lookup and connect are seen (so zero means zero)."""
    if netns_unavailable():
        pytest.skip(f"no network namespace here ({netns_unavailable()})")
    code = ("import socket; socket.getaddrinfo('example.org', 443, socket.AF_INET); "
            "socket.create_connection(('example.org', 443), timeout=3).close()")
    result = run_offline([sys.executable, "-c", code], timeout=30)
    assert result.returncode == 0, result.stderr
    assert "example.org" in result.queries
    assert 443 in result.connections


@pytest.mark.slow
def test_onnx_runtime_sessions_make_no_lookups(tmp_path: Path) -> None:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(REPO)}
    env.pop("ORT_DISABLE_TELEMETRY", None)      # labkit must set it itself
    # the telemetry upload came ~10 s after the first session
    result = run_offline([sys.executable, "-c", SESSIONS.replace("WAIT_S", "15")], timeout=150, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "sessions made" in result.stdout
    assert result.queries == []
    assert result.connections == []
    assert not (home / ".cache" / "Microsoft").exists()


def test_importing_onnxruntime_before_labkit_is_reported() -> None:
    """Telemetry cannot be switched off after onnxruntime's import: say so in the log."""
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("ORT_DISABLE_TELEMETRY", None)
    code = ("import logging; logging.basicConfig(); import onnxruntime, labkit; "
            "from labkit.models.runtime import onnxruntime_module; onnxruntime_module()")
    late = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60)
    assert "telemetry may still run" in late.stderr
    early = subprocess.run([sys.executable, "-c", code.replace("onnxruntime, labkit",
                                                               "labkit, onnxruntime")],
                           capture_output=True, text=True, env=env, timeout=60)
    assert early.returncode == 0 and "telemetry" not in early.stderr
