"""`jsonschema.validate` with each schema checked and compiled once per process.

`jsonschema.validate(instance, schema)` checks the schema against its metaschema and builds a
validator on every call — about 80 ms, paid each time a /learn manifest, a model card or an
import is read. The kit's schemas are module constants, so their validators are kept.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_validators: dict[int, tuple[Any, Any]] = {}     # id(schema) -> (schema, validator)


def validate(instance: Any, schema: dict[str, Any]) -> None:
    """Raise the best-matching `jsonschema.ValidationError` if `instance` does not fit."""
    import jsonschema

    entry = _validators.get(id(schema))
    if entry is None or entry[0] is not schema:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        with _lock:
            entry = _validators[id(schema)] = (schema, cls(schema))
    error = jsonschema.exceptions.best_match(entry[1].iter_errors(instance))
    if error is not None:
        raise error
