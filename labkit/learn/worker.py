"""Training runs in a child process, so its imports and buffers leave with it.

scikit-learn, skl2onnx and onnx add ~160 MB to a process and never give it back; a crash in
native code would take the page down with it. So the kit's web process never imports them:
`TrainingWorker` starts a *spawned* child (a fresh interpreter — no copy of the camera or
model threads), which imports the training libraries at once and then waits for one job. The
learn page starts it ahead of time (when a student records samples), so pressing Train does not
wait for the imports. The child trains with the same `train_project` as everywhere else,
sends progress back through a pipe, writes the model files, returns the project's new model
entry and exits. If it dies instead, the caller gets a clear error and the next job gets a
fresh child.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Callable

from labkit.errors import LabkitError

log = logging.getLogger(__name__)

IDLE_EXIT_SECONDS = 600.0     # a warm child nobody used goes away (its memory with it)
READY_TIMEOUT_SECONDS = 120.0

Progress = Callable[[str, float, str], None]


class TrainingCrashed(LabkitError):
    """The training child died (killed, out of memory, a native crash)."""


def _warm_imports() -> None:
    """What every training needs: imported while the student is still recording."""
    import onnx  # noqa: F401
    import onnxruntime  # noqa: F401
    import skl2onnx  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import sklearn.model_selection  # noqa: F401
    import sklearn.neighbors  # noqa: F401
    import sklearn.neural_network  # noqa: F401
    import sklearn.pipeline  # noqa: F401
    import sklearn.preprocessing  # noqa: F401
    import cv2  # noqa: F401
    import jsonschema  # noqa: F401
    import PIL.Image  # noqa: F401

    import labkit.learn.featurecache  # noqa: F401
    import labkit.learn.model  # noqa: F401
    import labkit.models.efficientnet  # noqa: F401


def _child_main(conn: Connection, settings: Any, models_dir: str | None, threads: int) -> None:
    """The child: warm up, take one job, train, report, exit."""
    try:
        _warm_imports()
        conn.send(("ready", None))
        if not conn.poll(IDLE_EXIT_SECONDS):
            return
        job = conn.recv()
        if job is None:
            return
        try:
            result = _train_job(job, settings, models_dir, threads,
                                lambda stage, frac, msg: conn.send(("progress", (stage, frac,
                                                                                 msg))))
            conn.send(("done", result))
        except LabkitError as exc:
            conn.send(("error", {"code": exc.code, "message": exc.message, "fix": exc.fix}))
        except Exception as exc:  # a bug must still end the job visibly
            log.exception("training failed")
            conn.send(("error", {"code": "internal", "message": repr(exc), "fix": None}))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        conn.close()


def _train_job(job: dict[str, Any], settings: Any, models_dir: str | None, threads: int,
               progress: Progress) -> dict[str, Any]:
    from labkit.atrest import Sealer
    from labkit.learn.dataset import ProjectStore
    from labkit.learn.featurecache import FeatureCache, use_cache
    from labkit.learn.features import extractor_for, vision_tracker
    from labkit.learn.model import train_project

    store = None
    if models_dir is not None:
        from labkit.models import ModelStore

        store = ModelStore(settings, models_dir=Path(models_dir), threads=threads)
    sealer = Sealer(Path(job["key_path"])) if job.get("key_path") else None
    project = ProjectStore(Path(job["data_dir"]), sealer=sealer).get(job["project"])
    tracker = vision_tracker(project.kind, store) if project.kind in ("hand", "pose") else None
    extractor = None
    if project.kind == "image":
        extractor = _lazy_embedder_class().from_store(store, threads=threads)
    if extractor is None:
        extractor = extractor_for(project.kind, store=store, tracker=tracker, threads=threads)
    use_cache(extractor, FeatureCache(project.root, extractor.name, project.sealer))
    report = train_project(project, extractor, classifier=job["classifier"], progress=progress)
    return {"report": report.to_json(), "model": project.model,
            "cache": getattr(extractor, "cache_stats", None)}


def _lazy_embedder_class() -> type:
    """The image embedder, but its ONNX Runtime session is only built if a feature is missing
    from the cache (with every feature precomputed, training never runs the embedder alone)."""
    from labkit.learn.features import EmbeddingExtractor

    class LazyEmbedder(EmbeddingExtractor):  # type: ignore[misc, valid-type]
        def __init__(self, onnx_bytes: bytes | None = None, threads: int = 2,
                     model_name: str = "", *, path: Path | None = None) -> None:
            from labkit.models.efficientnet import INPUT_NAME, OUTPUT_NAME

            self.onnx_bytes, self.path = onnx_bytes, path
            self.model_name, self._threads = model_name, threads
            self.input_name, self.output_name = INPUT_NAME, OUTPUT_NAME
            self._session: Any = None

        @property
        def session(self) -> Any:
            if self._session is None:
                EmbeddingExtractor.__init__(self, self._bytes, self._threads,
                                            self.model_name, path=self.path)
            return self._session

        @session.setter
        def session(self, value: Any) -> None:
            self._session = value

    return LazyEmbedder


class TrainingWorker:
    """A warm training child for one kit process (at most one at a time)."""

    def __init__(self, settings: Any, *, models_dir: Path | None = None, threads: int = 2
                 ) -> None:
        self.settings = settings
        self.models_dir = str(models_dir) if models_dir is not None else None
        self.threads = threads
        self._lock = threading.Lock()
        self._proc: Any = None
        self._conn: Connection | None = None
        self.last_exitcode: int | None = None
        self.running_pid: int | None = None  # the child training a job right now
        self._ready_seen = False
        self._running: Any = None             # that child's process
        self._stop_asked = False

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None else None

    def prewarm(self) -> None:
        """Start a child now (if none is alive), so the next job does not wait for imports."""
        with self._lock:
            if self._proc is not None and self._proc.is_alive():
                return
            self._start_locked()

    def _start_locked(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        proc = ctx.Process(target=_child_main, name="labkit-train",
                           args=(child, self.settings, self.models_dir, self.threads),
                           daemon=True)
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        self._ready_seen = False

    def wait_ready(self, timeout: float) -> bool:
        """Wait until the warm child has finished its imports (True) or `timeout` passes."""
        with self._lock:
            conn = self._conn
            if conn is None or self._ready_seen:
                return self._ready_seen
            try:
                if conn.poll(timeout):
                    kind, _ = conn.recv()
                    self._ready_seen = kind == "ready"
            except (EOFError, OSError):
                return False
            return self._ready_seen

    def run(self, job: dict[str, Any], progress: Progress | None = None,
            timeout: float = 600.0) -> dict[str, Any]:
        """Train one job in the child; returns its result or raises LabkitError."""
        with self._lock:
            if self._proc is None or not self._proc.is_alive():
                self._start_locked()
            proc, conn, ready = self._proc, self._conn, self._ready_seen
            self._proc = self._conn = None  # this child is ours now; the next job gets another
        assert conn is not None
        # the job can be stopped before its pid is told: whoever reads `running_pid` (the
        # next-class reset, a test) may call stop_job() at once
        self._running, self._stop_asked = proc, False
        self.running_pid = proc.pid
        deadline = time.monotonic() + timeout
        sent = False
        if ready:
            conn.send(job)
            sent = True
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TrainingCrashed("training took too long and was stopped",
                                          code="train_timeout", fix="train with fewer samples")
                if not conn.poll(min(remaining, 1.0)):
                    if not proc.is_alive():
                        raise self._ended(proc)
                    continue
                try:
                    kind, data = conn.recv()
                except (EOFError, OSError):
                    raise self._ended(proc) from None
                if kind == "ready" and not sent:
                    conn.send(job)
                    sent = True
                elif kind == "progress" and progress is not None:
                    progress(*data)
                elif kind == "done":
                    return data
                elif kind == "error":
                    raise LabkitError(data["message"], code=data["code"], fix=data.get("fix"))
        finally:
            self.running_pid = None
            self._running = None
            conn.close()
            # the child exits by itself after its job; reap it without making the page wait
            # for the interpreter's teardown
            threading.Thread(target=self._reap, args=(proc,), name="labkit-train-reap",
                             daemon=True).start()

    def _reap(self, proc: Any) -> None:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=5)
        self.last_exitcode = proc.exitcode

    def stop_job(self) -> bool:
        """End the job being trained now, if any (its child is killed: a job holds nothing
        worth keeping until it is done); `run` then raises TrainingCrashed with code
        "train_stopped". True if there was one."""
        proc = self._running
        if proc is None or not proc.is_alive():
            return False
        self._stop_asked = True
        proc.kill()
        return True

    def _ended(self, proc: Any) -> TrainingCrashed:
        if self._stop_asked:
            proc.join(timeout=2)
            return TrainingCrashed("training was stopped", code="train_stopped",
                                   fix="train again")
        return self._crashed(proc)

    def _crashed(self, proc: Any) -> TrainingCrashed:
        proc.join(timeout=2)
        log.error("training child %s died (exit code %s)", proc.pid, proc.exitcode)
        return TrainingCrashed(f"the training process stopped unexpectedly "
                               f"(exit code {proc.exitcode})", code="train_crashed",
                               fix="try again; if it keeps happening, train with fewer samples")

    def close(self) -> None:
        """Stop the warm child. It holds no job (a job takes its child away), so a child
        still busy with its imports is terminated rather than waited for."""
        with self._lock:
            proc, conn = self._proc, self._conn
            self._proc = self._conn = None
        if conn is not None:
            try:
                conn.send(None)
            except OSError:
                pass
            conn.close()
        if proc is not None:
            proc.join(timeout=0.5)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=3)
            if proc.is_alive():
                proc.kill()
