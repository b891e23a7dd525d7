"""Small helpers every blueprint uses: the kit runtime of this app, a JSON request body.

Every JSON body the kit reads goes through `SafeJSONProvider.loads` (installed as the app's
JSON provider) and then `json_body()`: one place that refuses what would otherwise surface
deep inside a view as a 500 — nesting deep enough to exhaust the stack, NaN/Infinity, lone
surrogates and NUL characters (which SQLite, the filesystem and subprocesses choke on), and
bodies that are not a JSON object.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

from labkit.errors import LabkitError

MAX_JSON_DEPTH = 32


def kit_runtime() -> Any:
    """The KitRuntime this app serves (camera, microphone, pins, shared services)."""
    return current_app.extensions["labkit"]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def check_json_value(value: Any, depth: int = 0) -> None:
    """Raise ValueError for a decoded value the kit must not accept (see module doc)."""
    if depth > MAX_JSON_DEPTH:
        raise ValueError("JSON nested too deeply")
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("NUL in text")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("lone surrogate in text") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            check_json_value(key, depth + 1)
            check_json_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_json_value(item, depth + 1)


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, whose `loads` refuses (ValueError) what `check_json_value` does,
    so `request.get_json(silent=True)` answers None and `get_json()` a 400 — never a 500."""

    ensure_ascii = False

    @staticmethod
    def default(o: Any) -> Any:
        """Messages (labkit.errors) are written as text in the request's language."""
        from labkit.errors import Message

        if isinstance(o, Message):
            return str(o)
        return DefaultJSONProvider.default(o)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_constant", _refuse_constant)
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        check_json_value(value)
        return value


def json_body(*, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object, or a clear 400 error if it is not one.

    With `optional`, an empty body counts as `{}` (buttons that post nothing)."""
    if optional and not request.get_data(cache=True):
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise LabkitError(_("The request must be a JSON object."), code="bad_input",
                          fix=_("Reload the page and try again."))
    return data


class StoreIntConverter(IntegerConverter):
    """`<int:...>` in a URL, limited to what SQLite can hold: an id past 2^63 - 1 is simply no
    such page (404), never an OverflowError inside the store."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = None, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min,
                         max=(2 ** 63 - 1) if max is None else max, signed=signed)
