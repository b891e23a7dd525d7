"""Pick one of my /learn projects for this lab run: the lab page's `teachable` part.

A lab whose `uses:` has a `teachable` detector (labkit/learn/teachable.py) answers with its
built-in demo until the student picks one of their own trained /learn projects here; from the
next frame on that model drives the lab's outputs, and the page's report card shows its
held-out figures. Who may pick what is /learn's rule (`web/learn.py: owned`): a student their
own projects, the teacher any; and the run must be theirs (`web/labs.py: _own_run`).

    GET  /api/labs/<lesson>/models/<detector>   the projects I may pick, each with how its
                                                classes match the lab's targets
    POST /api/labs/runs/<run>/model             {"detector", "project": id | null}
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify
from flask_babel import gettext as _

from labkit.errors import LabkitError
from labkit.projects.detectors import taught_kind
from labkit.web.access import STUDENT, allow
from labkit.web.common import json_body

bp = Blueprint("lab_models", __name__)


def _declaration(lesson_id: str, detector: str) -> dict[str, Any]:
    """The lab's teachable detector `detector` as lab.yaml declares it (400 if none)."""
    from labkit.web.labs import curriculum, lab_spec

    spec = lab_spec(curriculum().lesson(lesson_id))
    use = (spec.detectors() if spec is not None else {}).get(detector)
    if use is None or taught_kind(use) is None:
        raise LabkitError(_("This lab has no model to pick for %(name)s.", name=detector[:40]),
                          code="bad_input", fix=_("Reload the lab page."))
    return use


def _targets(use: dict[str, Any]) -> list[dict[str, Any]]:
    """The lab's targets and the class names each accepts (the first is the one to use)."""
    return [{"id": t, "names": [str(n) for n in (names or ())] or [t]}
            for t, names in (use.get("classes") or {}).items()]


def _kind_name(kind: str) -> str:
    from labkit.web.learn import _kind_names

    return _kind_names().get(kind, kind)


@bp.get("/api/labs/<lesson_id>/models/<detector>")
@allow(STUDENT)
def pickable(lesson_id: str, detector: str) -> Response:
    """The caller's /learn projects of the kind the detector takes (the teacher: everyone's),
    trained or not, each with its classes matched to the lab's targets."""
    from labkit.learn.teachable import match_classes
    from labkit.web.labs import curriculum, current_student, is_teacher
    from labkit.web.learn import _visible, projects

    if not is_teacher():
        from labkit.web.lab_access import check_open

        check_open(current_student(), lesson_id, curriculum().lessons)
    use = _declaration(lesson_id, detector)
    kind = str(taught_kind(use))
    store = projects()
    out, other_kinds = [], 0
    for summary in _visible(store.list()):
        if "error" in summary:
            continue
        if summary.get("kind") != kind:
            other_kinds += 1
            continue
        project = store.get(summary["id"])
        names = [c.name for c in project.classes]
        match = match_classes(names, use.get("classes"), use.get("optional", ("empty",)))
        out.append({"id": project.id, "name": project.name, "trained": bool(project.model),
                    "classes": names, **match})
    return jsonify({"detector": detector, "kind": kind, "kind_name": _kind_name(kind),
                    "targets": _targets(use), "projects": out, "other_kinds": other_kinds})


@bp.post("/api/labs/runs/<int:run_id>/model")
@allow(STUDENT)
def pick(run_id: int) -> Response:
    """Let the running lab's teachable detector answer with a project: only the run's own
    student (or the teacher) may, only with a project they may open on /learn (else 403),
    and only a trained project of the detector's kind (else 400, nothing changed).
    `"project": null` goes back to the built-in demo."""
    from labkit.learn.teachable import check_pickable
    from labkit.web.labs import _own_run, is_teacher, runner, store
    from labkit.web.learn import owned

    # the teacher may help with any run; a student only with their own (403 otherwise)
    run = store().runs.get(run_id) if is_teacher() else _own_run(run_id)[1]
    body = json_body()
    detector = body.get("detector")
    if not isinstance(detector, str) or not detector:
        raise LabkitError(_("Say which model of the lab to change."), code="bad_input",
                          fix=_("Reload the lab page."))
    use = _declaration(run.lesson_id, detector)
    project_id = body.get("project")
    project = None
    if project_id is not None:
        if not isinstance(project_id, str):
            raise LabkitError(_("Pick a project from the list."), code="bad_input",
                              fix=_("Reload the lab page."))
        project = owned(project_id)          # someone else's project: 403, nothing done
        kind = str(taught_kind(use))
        if project.kind != kind:
            raise LabkitError(
                _("This lab needs a project of the kind “%(wanted)s”; “%(name)s” is of the "
                  "kind “%(kind)s”.", wanted=_kind_name(kind), name=project.name,
                  kind=_kind_name(project.kind)),
                code="wrong_kind", fix=_("Pick another project, or make a “%(wanted)s” "
                                         "project on the Teach the computer page.",
                                         wanted=_kind_name(kind)))
        check_pickable(project, kind)
    picked = runner().use_project(detector, project, run_id=run_id)
    report = None
    if project is not None:
        from labkit.learn.teachable import project_report

        report = project_report(project)
    return jsonify({"run_id": run_id, "detector": detector, "picked": picked,
                    "report": report})
