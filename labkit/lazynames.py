"""Package names resolved on first access (PEP 562), so importing one module of a package
does not load every stack its `__init__` re-exports (see docs/architecture.md, "Heavy imports
wait for first use")."""

from __future__ import annotations

import importlib
from typing import Any, Callable


def lazy_names(namespace: dict[str, Any], homes: dict[str, str], exported: list[str]
               ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`(__getattr__, __dir__)` for a package whose `namespace` (its `globals()`) re-exports
    each name in `homes` from the module named there; a name is imported once, then kept."""
    package = namespace.get("__name__", "?")

    def getattr_(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted(set(namespace) | set(exported))

    return getattr_, dir_
