"""A trained /learn model travelling between kits of a room: out from the lead kit as a
model-only export, in on a member kit through the same checks as a model import.

The lead sends what the learn page's Export makes without samples (labkit/learn/exchange.py):
the ONNX graph, its card and labels — no child's picture or voice. The receiving kit refuses
an export that carries samples anyway, then imports it exactly as `/api/learn/import` does
(every member checked by the strict archive reader, the graph loaded and run in a limited
child process before anything is written), as a project of the kit's teacher (no owner).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _

if TYPE_CHECKING:   # the exporter (and the trainer behind it) load when a model travels
    from labkit.learn.dataset import Project


def model_export(project: Project) -> bytes:
    """The project's trained model as a model-only export (no samples)."""
    from labkit.learn.exchange import build_export

    if not project.model:
        raise LabkitError(_("This project has no trained model yet."), code="not_trained",
                          fix=_("Press Train first."))
    _name, data = build_export(project, samples=False)
    return data


def receive_model(service: Any, data: bytes) -> Project:
    """Import a pushed model on this kit (`service`: its LearnService) as the teacher's."""
    from labkit.learn.exchange import read_export

    contents = read_export(data)        # None: a bare model zip, checked by the import itself
    if contents is not None and (contents.manifest.get("samples_included")
                                 or any(contents.samples)):
        raise LabkitError(_("A model pushed to the room must not carry students' samples."),
                          code="has_samples",
                          fix=_("Push the trained model alone from the lead kit."))
    if contents is not None and contents.graph is None:
        raise LabkitError(_("This project has no trained model yet."), code="not_trained",
                          fix=_("Press Train first."))
    return service.import_project(data, owner=None)
