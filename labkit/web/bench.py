"""The virtual bench API: read every device's state, drive the simulated inputs."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from labkit.web.common import json_body
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
    event = json_body()
    runtime = current_app.extensions["labkit"]
    return jsonify({"device": event.get("device"), "state": runtime.bench.apply(event)})
