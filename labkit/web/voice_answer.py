"""A short spoken answer to a lab's reflection question, kept only in the child's portfolio.

The child presses "Record" and speaks into the kit's microphone (at most MAX_SECONDS); the take
stays in the kit's memory, where the child can listen to it, record it again or throw it away.
Only when they press "Save to my portfolio" does the lab page's finish call keep it
(`take_for_saving`), sealed on disk like every kept sound (labkit/atrest.py, store/files.py);
from then on the portfolio's file route plays it to the child and their teacher, nobody else.
An unsaved take is never written to disk: it is dropped when the child records again, throws
it away, stops or finishes the run, and with the kit's memory when it restarts.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Blueprint, Response, jsonify

from labkit.store import N_, Problem
from labkit.web.access import STUDENT, allow

bp = Blueprint("voice_answer", __name__)

MAX_SECONDS = 15.0
MIN_SECONDS = 1.0
DEFAULT_SECONDS = 8.0


class VoiceTakes:
    """The unsaved takes, one per run, in memory only."""

    def __init__(self) -> None:
        self._takes: dict[int, tuple[bytes, float]] = {}
        self._lock = threading.Lock()

    def put(self, run_id: int, wav: bytes, seconds: float) -> None:
        with self._lock:
            self._takes[run_id] = (wav, seconds)

    def get(self, run_id: int) -> tuple[bytes, float] | None:
        with self._lock:
            return self._takes.get(run_id)

    def drop(self, run_id: int) -> bool:
        with self._lock:
            return self._takes.pop(run_id, None) is not None

    def close(self) -> None:
        with self._lock:
            self._takes.clear()


def takes() -> VoiceTakes:
    from labkit.web.labs import runtime

    return runtime().service("web.voice_takes", VoiceTakes)


def take_for_saving(run_id: int) -> bytes:
    """The take the child is saving now (removed from memory); a clear error if none."""
    take = takes().get(run_id)
    if take is None:
        raise Problem(N_("There is no recording to save. Press Record and speak first."),
                      code="bad_input")
    takes().drop(run_id)
    return take[0]


def forget(run_id: int) -> None:
    takes().drop(run_id)


def _seconds(body: dict[str, Any]) -> float:
    value = body.get("seconds", DEFAULT_SECONDS)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not MIN_SECONDS <= float(value) <= MAX_SECONDS:
        raise Problem(N_("A voice answer is %(min)s to %(max)s seconds long."),
                      code="bad_input", min=int(MIN_SECONDS), max=int(MAX_SECONDS))
    return float(value)


def _open_run(run_id: int) -> Any:
    from labkit.web.labs import _own_run

    _student, run = _own_run(run_id)
    if run.status == "finished":
        raise Problem(N_("This lab run is already finished."),
                      fix=N_("Start the lab again to do another run."), code="conflict")
    return run


@bp.post("/api/labs/runs/<int:run_id>/voice")
@allow(STUDENT)
def record(run_id: int) -> Response:
    """Record {"seconds": 1–15} from the kit's microphone into memory (not to disk)."""
    from labkit.drivers.audio import RATE
    from labkit.drivers.wav import wav_bytes
    from labkit.web.labs import jsonjson_body, runtime

    _open_run(run_id)
    seconds = _seconds(jsonjson_body())
    mic = runtime().microphone
    if mic is None or not mic.connected:
        raise Problem(N_("No microphone is connected, so the kit cannot record your answer."),
                      fix=N_("Ask your teacher to plug one in, or pick a face or draw instead."),
                      code="no_microphone")
    samples = mic.record(seconds)
    takes().put(run_id, wav_bytes(samples, RATE), samples.size / RATE)
    return _no_store(jsonify({"run_id": run_id, "seconds": round(samples.size / RATE, 2)}))


@bp.get("/api/labs/runs/<int:run_id>/voice")
@allow(STUDENT)
def listen(run_id: int) -> Response:
    """The unsaved take, for the child to hear before saving (their own run only)."""
    from labkit.web.labs import _own_run

    _own_run(run_id)
    take = takes().get(run_id)
    if take is None:
        raise Problem(N_("There is no recording yet."), code="not_found")
    return _no_store(Response(take[0], mimetype="audio/wav"))


@bp.delete("/api/labs/runs/<int:run_id>/voice")
@allow(STUDENT)
def discard(run_id: int) -> Response:
    from labkit.web.labs import _own_run

    _own_run(run_id)
    return jsonify({"discarded": takes().drop(run_id)})


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    return response
