"""Switching the synthetic camera's scene from a page (sim mode: a laptop with no camera).

`POST /api/camera/scene {"scene": id}` plays one of `labkit.drivers.scene_presets` on the
kit's camera ("moving": back to the synthetic source's own scene); `GET` says which is shown.
Only a synthetic camera is switched (a real one shows the room: 409), and never while a lab's
demo is playing on it (409). The picker (`_scene_picker.html`) sits under the live view of
the /learn and vision pages.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Blueprint, Response, jsonify
from flask_babel import gettext as _

from labkit.drivers.scene_presets import DEVICE, player, preset_names
from labkit.errors import LabkitError
from labkit.web.access import ANONYMOUS, STUDENT, allow
from labkit.web.common import json_body, kit_runtime as runtime

bp = Blueprint("scenes", __name__)

_lock = threading.Lock()
#: per camera (by id): the preset we play and its render function
_shown: dict[int, tuple[str, Any]] = {}


def is_synthetic(camera: Any) -> bool:
    return getattr(camera, "name", "") == "synthetic"


def current(camera: Any) -> str:
    """The preset on the camera now: ours if it is still playing, else the device's own."""
    with _lock:
        mine = _shown.get(id(camera))
    if mine is not None and getattr(camera, "played", None) is mine[1]:
        return mine[0]
    return DEVICE


def labels() -> dict[str, str]:
    names = {
        DEVICE: _("Moving shapes and a face"), "empty": _("Empty room"),
        "red_ball": _("Red ball"), "blue_ball": _("Blue ball"), "green_ball": _("Green ball"),
        "yellow_ball": _("Yellow ball"), "triangle_card": _("Card: yellow triangle"),
        "square_card": _("Card: yellow square"), "circle_card": _("Card: blue circle"),
        "hand_open": _("Hand: open"), "hand_fist": _("Hand: fist"),
        "hand_victory": _("Hand: victory sign"), "hand_point": _("Hand: pointing"),
        "person_standing": _("Person standing"), "person_arms_up": _("Person, arms up"),
        "person_squatting": _("Person squatting"), "person_jumping": _("Person doing jumping jacks"),
        "face": _("A face"), "people_walking": _("People walking by"),
    }
    return {p: names.get(p, p) for p in preset_names()}


@bp.app_context_processor
def _picker() -> dict[str, Any]:
    def scene_picker() -> dict[str, Any] | None:
        camera = getattr(runtime(), "camera", None)
        if camera is None or not is_synthetic(camera):
            return None
        return {"current": current(camera), "labels": labels()}

    return {"scene_picker": scene_picker}


def stop_shows(camera: Any) -> bool:
    """Stop any scene or lab demo playing on the camera and drop a lab's picture filter, so
    the camera shows the device as it is; True if something was playing."""
    with _lock:
        _shown.pop(id(camera), None)
        camera.filter = None
        playing = bool(camera.playing)
        if playing:
            camera.play(None)
    return playing


@bp.get("/api/camera/scene")
@allow(ANONYMOUS)
def get_scene() -> Response:
    camera = runtime().camera
    return jsonify({"scene": current(camera), "scenes": preset_names(),
                    "switchable": is_synthetic(camera)})


@bp.post("/api/camera/scene")
@allow(STUDENT)
def set_scene() -> Response:
    camera = runtime().camera
    scene = json_body().get("scene")
    if not isinstance(scene, str) or scene not in preset_names():
        raise LabkitError(_("There is no such scene."), code="bad_input",
                          fix=_("Pick a scene from the list."))
    if not is_synthetic(camera):
        raise LabkitError(_("The kit has a real camera: show it real things instead."),
                          code="real_hardware", fix=_("Hold an object in front of the camera."))
    with _lock:
        mine = _shown.get(id(camera))
        if camera.playing and (mine is None or camera.played is not mine[1]):
            raise LabkitError(_("A lab's demo is showing on the camera right now."),
                              code="busy", fix=_("Wait until the demo has finished."))
        if scene == DEVICE:
            camera.play(None)
            _shown.pop(id(camera), None)
        else:
            show = player(scene)
            _shown[id(camera)] = (scene, show)
            camera.play(show)
    return jsonify({"scene": scene})
