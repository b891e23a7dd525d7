"""Fixtures for the teachable-model tests: generated datasets, the embedder, trained projects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labkit.learn.dataset import ProjectStore
from labkit.learn.features import EmbeddingExtractor
from labkit.learn.synthetic import SHAPES, shapes_dataset


@pytest.fixture(scope="session")
def shapes_50() -> tuple[list[np.ndarray], list[str]]:
    """4 classes × 50 generated pictures (shape on a busy background, everything jittered)."""
    return shapes_dataset(50, SHAPES, seed=0)


@pytest.fixture(scope="session")
def embedder(model_store: Any) -> EmbeddingExtractor:
    emb = EmbeddingExtractor.from_store(model_store)
    assert emb is not None, "labkit models fetch did not build efficientnet_lite0_features"
    return emb


@pytest.fixture
def projects(tmp_path: Path) -> ProjectStore:
    return ProjectStore(tmp_path / "learn-data")


@pytest.fixture(scope="session")
def trained_shapes(tmp_path_factory: pytest.TempPathFactory, shapes_50: Any,
                   embedder: EmbeddingExtractor) -> dict[str, Any]:
    """One image project with the 200 pictures, trained once with the embedder."""
    from labkit.learn.model import train_project

    store = ProjectStore(tmp_path_factory.mktemp("shapes"))
    project = store.create("形状", "image", list(SHAPES))
    ids = {c.name: c.id for c in project.classes}
    images, labels = shapes_50
    for img, label in zip(images, labels, strict=True):
        project.add_sample(ids[label], img)
    report = train_project(project, embedder, classifier="logistic")
    return {"store": store, "project": project, "report": report}
