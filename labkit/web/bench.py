"""The virtual bench API: read every device's state, drive the simulated inputs."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from labkit.errors import LabkitError
from labkit.web.access import ANONYMOUS, STUDENT, allow

bp = Blueprint("bench", __name__, url_prefix="/api/bench")


@bp.get("")
@allow(ANONYMOUS)
def state() -> Response:
    runtime = current_app.extensions["labkit"]
    return jsonify({"hardware": runtime.hardware, "devices": runtime.bench.state()})


@bp.post("/input")
@allow(STUDENT)
def simulated_input() -> Response:
    event = request.get_json(silent=True)
    if event is None:
        raise LabkitError("the bench input must be JSON", code="bad_input",
                          fix='send e.g. {"device": "button", "action": "press"}')
    runtime = current_app.extensions["labkit"]
    return jsonify({"device": event.get("device"), "state": runtime.bench.apply(event)})
