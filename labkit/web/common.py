"""Small helpers every blueprint uses: the kit runtime of this app, a JSON request body."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_babel import gettext as _

from labkit.errors import LabkitError


def kit_runtime() -> Any:
    """The KitRuntime this app serves (camera, microphone, pins, shared services)."""
    return current_app.extensions["labkit"]


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a clear 400 error if it is not one."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise LabkitError(_("The request must be a JSON object."), code="bad_input",
                          fix=_("Reload the page and try again."))
    return data
