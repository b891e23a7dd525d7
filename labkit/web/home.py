"""The kit's home page, the language switch and the health check."""

from __future__ import annotations

from flask import (Blueprint, Response, current_app, jsonify, redirect, render_template,
                   request, session, url_for)
from werkzeug.wrappers import Response as WerkzeugResponse

from labkit import __version__
from labkit.config import LANGUAGES
from labkit.web.access import ANONYMOUS, allow

bp = Blueprint("home", __name__)


@bp.get("/")
@allow(ANONYMOUS)
def index() -> str:
    runtime = current_app.extensions["labkit"]
    return render_template("home.html", runtime=runtime)


@bp.get("/lang/<code>")
@allow(ANONYMOUS)
def set_language(code: str) -> WerkzeugResponse:
    if code in LANGUAGES:
        session["lang"] = code
    target = request.args.get("next", "")
    # only local paths, so the switch cannot be used to send a child elsewhere
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("home.index")
    return redirect(target)


@bp.get("/healthz")
@allow(ANONYMOUS)
def healthz() -> Response:
    runtime = current_app.extensions["labkit"]
    return jsonify({"status": "ok", "hardware": runtime.hardware, "version": __version__,
                    "camera": {"name": runtime.camera.name, "connected": runtime.camera.connected}})
