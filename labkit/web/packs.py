"""The teacher's lab pack page (`/teacher/packs`): installed packs, and packs found on USB drives.

Only packs the page itself found (by the configured search patterns, default
`/media/*/*.labpack`) can be installed from it: the request names one by its index in that list,
never by a path, so no route opens a file the teacher did not plug in.

Installing is a background job (labkit/jobs.py, the shape every page's progress bar reads):
`POST /install` answers 202 at once, `GET /install/status` tells the stage (verifying the
signature → checking the archive → installing) and the bytes done, then the pack or the error.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _

from labkit.errors import LabkitError
from labkit.jobs import Jobs
from labkit.packs import labpack
from labkit.projects.packcli import vet_pack_model
from labkit.web.access import TEACHER, allow

bp = Blueprint("packs", __name__, url_prefix="/teacher/packs")
DEFAULT_SEARCH = ("/media/*/*.labpack",)


def _store() -> labpack.PackStore:
    return labpack.PackStore(current_app.config["LABKIT_SETTINGS"].data_dir)


def _found() -> list[dict[str, Any]]:
    patterns = current_app.config.get("LABKIT_PACK_SEARCH", DEFAULT_SEARCH)
    return [{"index": i, "name": p.name, "size": p.stat().st_size}
            for i, p in enumerate(labpack.find_packs(patterns))]


@bp.get("")
@allow(TEACHER)
def page() -> str:
    return render_template("labs/teacher_packs.html", installed=_store().list(), found=_found())


@bp.get("/state")
@allow(TEACHER)
def state() -> Response:
    return jsonify({"installed": _store().list(), "found": _found()})


def usb_pack(index: Any) -> Any:
    """The pack at `index` in the list of packs on the USB drives (as the page listed them);
    a clear error if it is no longer there."""
    patterns = current_app.config.get("LABKIT_PACK_SEARCH", DEFAULT_SEARCH)
    found = labpack.find_packs(patterns)
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(found):
        raise LabkitError(_("That pack is no longer on the USB drive."),
                          fix=_("Plug the drive in again and reload the page."),
                          code="unknown_pack")
    return found[index]


INSTALL = "usb"        # one install at a time on a kit: they write the same pack state


def install_jobs() -> Jobs:
    ext = current_app.extensions
    if "labkit_pack_jobs" not in ext:
        ext["labkit_pack_jobs"] = Jobs("packs.install", busy=LabkitError(
            _("A lab pack is being installed already."), code="busy",
            fix=_("Wait until the progress bar is full.")))
    return ext["labkit_pack_jobs"]


@bp.post("/install")
@allow(TEACHER)
def install() -> Response:
    """Start installing the pack at `index` of the USB list; a bad index is answered at once,
    a refused pack through the job's status."""
    body = request.get_json(silent=True)
    index = body.get("index") if isinstance(body, dict) else None
    path = usb_pack(index)
    store = _store()

    def work(progress: Any) -> dict[str, Any]:
        info = store.install(path, vet=vet_pack_model, progress=progress)
        return {"installed": info.as_dict()}

    job = install_jobs().start(INSTALL, work, name=path.name, size=path.stat().st_size)
    response = jsonify({"job": job})
    response.status_code = 202
    return response


@bp.get("/install/status")
@allow(TEACHER)
def install_status() -> Response:
    return jsonify({"job": install_jobs().get(INSTALL)})
