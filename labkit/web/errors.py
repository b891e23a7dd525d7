"""Errors as the page and the API expect them.

JSON routes answer `{"error": {"code", "message"}}` with a 4xx status — never a 500 trace;
pages get a short translated error page. A `LabkitError` is the user's mistake (4xx);
anything else is logged with its traceback and answered with a plain 500.
"""

from __future__ import annotations

import errno
import logging
from typing import Any

from flask import Flask, Response, has_app_context, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from labkit.errors import LabkitError

log = logging.getLogger(__name__)

STATUS_FOR_CODE = {
    "not_found": 404, "unknown_device": 404, "unknown_model": 404, "unknown_project": 404,
    "forbidden": 403, "wrong_pin": 403, "need_student": 401, "need_teacher": 401,
    "real_hardware": 409, "conflict": 409, "busy": 409, "pins_busy": 409, "too_large": 413,
    "store_gone": 503, "storage_full": 507, "lab_closed": 403,
}


def translate_for_request(msgid: str) -> str:
    """The web process' translator for `labkit.errors.Message`: Flask-Babel, in the language
    of the request being answered; English outside any app (e.g. in a log line)."""
    return _(msgid) if has_app_context() else msgid


def wants_json() -> bool:
    return (request.path.startswith(("/api/", "/events", "/healthz", "/stream", "/fleet/"))
            or request.accept_mimetypes.best == "application/json")


def json_error(code: str, message: str, status: int = 400, **extra: Any) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    body.update(extra)
    response = jsonify({"error": body})
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.context_processor
    def _kit_faults() -> dict[str, Any]:
        def store_gone() -> bool:
            runtime = app.extensions.get("labkit")
            store = getattr(runtime, "services", {}).get("store")
            return bool(store is not None and store.db.file_replaced())
        return {"kit_store_gone": store_gone}

    @app.errorhandler(LabkitError)
    def _labkit_error(exc: LabkitError) -> Any:
        status = STATUS_FOR_CODE.get(exc.code, 400)
        if wants_json():
            return json_error(exc.code, exc.message, status, fix=exc.fix)
        return render_template("error.html", message=exc.message, fix=exc.fix), status

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> Any:
        message = _("This form has expired. Reload the page and try again.")
        if wants_json():
            return json_error("csrf", message, 400)
        return render_template("error.html", message=message, fix=""), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        messages = {
            400: _("The request was not understood."),
            404: _("There is no such page."),
            405: _("That action is not allowed here."),
            413: _("The upload is too large."),
        }
        message = messages.get(status, exc.name)
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(status,
                                                                                    "bad_request")
        if wants_json():
            return json_error(code, message, status)
        return render_template("error.html", message=message, fix=""), status

    @app.errorhandler(OSError)
    def _os_error(exc: OSError) -> Any:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            return _unexpected(exc)
        # atomic writes remove their temp file on failure, so nothing half-written remains
        log.error("storage full on %s %s", request.method, request.path)
        message = _("The kit's storage is full; this was not saved. Everything saved "
                    "before is safe.")
        fix = _("Ask the teacher to free space on the kit (delete old exports or projects), "
                "then try again.")
        if wants_json():
            return json_error("storage_full", message, 507, fix=fix)
        return render_template("error.html", message=message, fix=fix), 507

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        log.exception("unexpected error on %s %s", request.method, request.path)
        message = _("Something went wrong on the kit. It has been logged.")
        if wants_json():
            return json_error("internal", message, 500)
        return render_template("error.html", message=message, fix=""), 500
