"""The teacher's lab pack page (`/teacher/packs`): installed packs, and packs found on USB drives.

Only packs the page itself found (by the configured search patterns, default
`/media/*/*.labpack`) can be installed from it: the request names one by its index in that list,
never by a path, so no route opens a file the teacher did not plug in.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _

from labkit.errors import LabkitError
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


@bp.post("/install")
@allow(TEACHER)
def install() -> Response:
    body = request.get_json(silent=True)
    index = body.get("index") if isinstance(body, dict) else None
    info = _store().install(usb_pack(index), vet=vet_pack_model)
    return jsonify({"installed": info.as_dict()})
