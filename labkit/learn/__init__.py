"""Teachable models: collect samples → features → small classifier → metrics → ONNX/int8.

    from labkit.learn import ProjectStore, extractor_for, train_project, Predictor
    projects = ProjectStore(settings.data_dir)
    p = projects.create("My classifier", "image", ["苹果", "香蕉"])
    p.add_sample(p.classes[0].id, frame)            # BGR image from the camera
    report = train_project(p, extractor_for("image", store=model_store))
    Predictor(p, store=model_store).predict(frame)  # {"label", "confidence", "probabilities"}
    name, data = build_export(p, samples=True)      # <name>.labkit-model.zip, whole project
    ExportedModel(data).predict(frame)              # the exported model in a program

The classifier itself is `labkit.models.trainable` (shared with the audio helper's command
words); this package adds datasets on disk, feature extractors, the trainer job, live
prediction with action bindings, and export/import.

The names below are resolved on first access (PEP 562): importing `labkit.learn.dataset`
alone (as the web pages do) must not load the trainer and feature stacks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from labkit.lazynames import lazy_names

if TYPE_CHECKING:
    from labkit.learn.dataset import KINDS, Project, ProjectStore
    from labkit.learn.exchange import ExportedModel, build_export, import_project
    from labkit.learn.features import extractor_by_name, extractor_for
    from labkit.learn.model import (Predictor, TrainReport, export_zip, import_zip, make_int8,
                                    train_project)

_HOMES = {
    **dict.fromkeys(("KINDS", "Project", "ProjectStore"), "labkit.learn.dataset"),
    **dict.fromkeys(("ExportedModel", "build_export", "import_project"), "labkit.learn.exchange"),
    **dict.fromkeys(("extractor_by_name", "extractor_for"), "labkit.learn.features"),
    **dict.fromkeys(("Predictor", "TrainReport", "export_zip", "import_zip", "make_int8",
                     "train_project"), "labkit.learn.model"),
}

__all__ = ["KINDS", "ExportedModel", "Predictor", "Project", "ProjectStore", "TrainReport",
           "build_export", "export_zip", "extractor_by_name", "extractor_for", "import_project",
           "import_zip", "make_int8", "train_project"]


__getattr__, __dir__ = lazy_names(globals(), _HOMES, __all__)
