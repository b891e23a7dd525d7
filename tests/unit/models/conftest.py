"""Fixtures for the model-store tests: private copies of a few real models.

The session `model_store` is shared and read-only; tests that damage, import or evict get their
own store holding copies of real models from it.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

SMALL = ("face_detection_short_range", "silero_vad", "emotion_fer",
         "haarcascade_frontalface_default")


def tree_hash(folder: Path) -> str:
    """One hash over every path and byte under `folder` (the writer's lock file aside)."""
    h = hashlib.sha256()
    if not folder.exists():
        return "absent"
    for p in sorted(folder.rglob("*")):
        if p.name == ".lock":
            continue
        rel = p.relative_to(folder).as_posix()
        if p.is_symlink():
            h.update(f"L {rel} {p.readlink()}\n".encode())
        elif p.is_dir():
            h.update(f"D {rel}\n".encode())
        else:
            h.update(f"F {rel} ".encode() + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


@pytest.fixture
def make_store(tmp_path: Path, model_store: Any) -> Callable[..., Any]:
    """make_store(names=SMALL, where="store") -> a new ModelStore with copies of those models."""
    from labkit.models import ModelStore
    from labkit.models.registry import write_manifest

    def make(names: tuple[str, ...] = SMALL, where: str = "store", **kw: Any) -> Any:
        models_dir = tmp_path / where / "models"
        models_dir.mkdir(parents=True)
        entries = {}
        for name in names:
            entry = model_store.info(name)
            model_store.path(name)  # the source copy must itself be good
            shutil.copytree(model_store.models_dir / name, models_dir / name)
            entries[name] = entry
        write_manifest(models_dir / "manifest.json", entries)
        return ModelStore(models_dir=models_dir, threads=kw.pop("threads", 1), **kw)

    return make


@pytest.fixture
def store(make_store: Callable[..., Any]) -> Any:
    return make_store()
