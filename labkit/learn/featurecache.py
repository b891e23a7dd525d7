"""Features computed when a sample is saved, so pressing Train only fits.

The expensive part of training an image project is the embedding pass (EfficientNet-Lite0 on
every picture). A student records for minutes before pressing Train, so the kit computes each
sample's features in the background right after it is saved, and training looks them up.

A cached row is keyed by a hash of the *decoded stored sample* (what training reads back) and
the extractor's name, so a replaced or re-encoded file, or another extractor, simply misses and
is computed again: the cache can never hand training a stale row. Rows live next to the samples
(`<project>/features/<extractor>/<key>.npy`), sealed with the kit's data key like the samples
they come from (a hand's landmarks are as personal as its picture; labkit.atrest), and go when
the project is deleted.

Events on the bus:
    learn.features  {"project", "pending", "done", "failed"}
"""

from __future__ import annotations

import hashlib
import logging
import queue
import re
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from labkit.atrest import SealBroken, Sealer, sealer_for

log = logging.getLogger(__name__)


def payload_key(payload: Any) -> str | None:
    """A content hash of one decoded sample (None for payloads we do not cache)."""
    if isinstance(payload, np.ndarray):
        arr = np.ascontiguousarray(payload)
        h = hashlib.blake2b(digest_size=16)
        h.update(f"{arr.dtype.str}{arr.shape}".encode())
        h.update(memoryview(arr).cast("B"))
        return h.hexdigest()
    return None


class FeatureCache:
    """Per-project, per-extractor rows on disk, read by the trainer (any process)."""

    def __init__(self, project_root: Path, extractor_name: str,
                 sealer: Sealer | None = None) -> None:
        slug = re.sub(r"[^A-Za-z0-9_.-]", "_", extractor_name)
        self.folder = Path(project_root) / "features" / slug
        # <data>/learn/<project>: the data dir, and so its key, is two folders up
        self.sealer = sealer or sealer_for(Path(project_root).parent.parent)

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.npy"

    def get(self, key: str | None, dim: int) -> np.ndarray | None:
        if key is None:
            return None
        import io

        try:
            row = np.load(io.BytesIO(self.sealer.read(self._path(key))), allow_pickle=False)
        except (OSError, ValueError, SealBroken):
            return None
        return row if row.shape == (dim,) and row.dtype == np.float32 else None

    def put(self, key: str | None, row: np.ndarray) -> None:
        if key is None:
            return
        import io

        buf = io.BytesIO()
        np.save(buf, np.asarray(row, np.float32).reshape(-1), allow_pickle=False)
        self.sealer.write(self._path(key), buf.getvalue())


def forget(project_root: Path, key: str | None) -> int:
    """Remove one sample's rows for every extractor (its photo is being deleted)."""
    if key is None:
        return 0
    removed = 0
    for path in (Path(project_root) / "features").glob(f"*/{key}.npy"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def use_cache(extractor: Any, cache: FeatureCache) -> Any:
    """Make `extractor.extract` answer from `cache` where it can (computing only the misses).

    The extractor keeps its class, name and model, so the trainer treats it exactly as before.
    Rows that come out non-finite (e.g. no hand found) are not cached: they are cheap to redo.
    """
    compute: Callable[[Sequence[Any]], np.ndarray] = extractor.extract
    stats = {"hits": 0, "misses": 0}

    def extract(payloads: Sequence[Any]) -> np.ndarray:
        rows = np.zeros((len(payloads), extractor.dim), np.float32)
        keys = [payload_key(p) for p in payloads]
        missing = []
        for i, key in enumerate(keys):
            row = cache.get(key, extractor.dim)
            if row is None:
                missing.append(i)
            else:
                rows[i] = row
        stats["hits"] += len(payloads) - len(missing)
        stats["misses"] += len(missing)
        if missing:
            fresh = compute([payloads[i] for i in missing])
            for i, row in zip(missing, fresh, strict=True):
                rows[i] = row
                if np.isfinite(row).all():
                    cache.put(keys[i], row)
        return rows

    extractor.extract = extract
    extractor.cache_stats = stats
    return extractor


class FeaturePrecomputer:
    """One background thread that computes features for samples just saved.

    `submit(project, sample_id)` returns at once; the thread reads the stored sample back,
    computes its row with the project's extractor (`extractor_for(project)`) and caches it.
    """

    def __init__(self, extractor_for: Callable[[Any], Any],
                 publish: Callable[[str, dict[str, Any]], None]) -> None:
        self._extractor_for = extractor_for
        self._publish = publish
        self._queue: queue.Queue[tuple[Any, str] | None] = queue.Queue()
        self._pending: dict[str, int] = {}
        self._done: dict[str, int] = {}
        self._failed: dict[str, int] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    def submit(self, project: Any, sample_id: str) -> None:
        with self._lock:
            self._pending[project.id] = self._pending.get(project.id, 0) + 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="labkit-learn-features",
                                                daemon=True)
                self._thread.start()
        self._queue.put((project, sample_id))

    def pending(self, project_id: str) -> int:
        with self._lock:
            return self._pending.get(project_id, 0)

    def wait_idle(self, project_id: str, timeout: float) -> bool:
        """Wait until no sample of this project is waiting for its features."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._pending.get(project_id), timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            project, sample_id = item
            ok = self._compute(project, sample_id)
            with self._idle:
                self._pending[project.id] -= 1
                book = self._done if ok else self._failed
                book[project.id] = book.get(project.id, 0) + 1
                status = {"project": project.id, "pending": self._pending[project.id],
                          "done": self._done.get(project.id, 0),
                          "failed": self._failed.get(project.id, 0)}
                self._idle.notify_all()
            self._publish("learn.features", status)
            if self._queue.empty():
                from labkit.models.runtime import release_freed_memory

                release_freed_memory()      # what the burst of pictures left on the heap

    def _compute(self, project: Any, sample_id: str) -> bool:
        try:
            with project.lock:
                info, sample = project.find_sample(sample_id)
            payload = project.read_sample(info, sample)
            extractor = self._extractor_for(project)
            key = payload_key(payload)
            if key is None:
                return True  # not a cached kind (sound/sensor features are cheap)
            cache = FeatureCache(project.root, extractor.name, project.sealer)
            if cache.get(key, extractor.dim) is not None:
                return True
            row = extractor.extract([payload])[0]
            if np.isfinite(row).all():
                cache.put(key, row)
            with project.lock:
                still_there = any(s.id == sample_id for _, s in project.iter_samples())
            if not still_there:  # deleted while we computed: leave nothing behind
                forget(project.root, key)
            return True
        except Exception as exc:  # a deleted sample or a missing model: training recomputes
            log.info("features for sample %s not precomputed: %s", sample_id, exc)
            return False

    def close(self) -> None:
        with self._lock:
            running = self._thread is not None
        if running:
            self._queue.put(None)
