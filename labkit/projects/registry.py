"""Finding the labs: every module in `labkit/projects/` that defines a Project with an id.

Band issues add a lab by adding one module; nothing else has to be registered. A lab module
that fails to import (a typo, a missing optional package) is reported by name with its error —
it does not take the other labs or the web page down with it.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
import threading
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

from labkit.projects.base import Project
from labkit.store.problems import N_, Problem

if TYPE_CHECKING:
    from labkit.curriculum import KnownProject

log = logging.getLogger(__name__)

FRAMEWORK_MODULES = {"base", "registry", "eventlog", "runner", "cli"}


@dataclass
class Registry:
    projects: dict[str, type[Project]] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)  # module name → why it failed

    def get(self, project_id: str) -> type[Project]:
        try:
            return self.projects[project_id]
        except KeyError:
            raise Problem(N_("There is no lab called \"%(project)s\"."),
                          fix=N_("The labs on this kit are: %(known)s."),
                          code="unknown_project", project=project_id,
                          known=", ".join(sorted(self.projects)) or "-") from None

    def check_ids(self) -> dict[str, list[str]]:
        """project id → its check ids (what `curriculum check` validates lessons against)."""
        return {pid: cls.check_ids() for pid, cls in self.projects.items()}

    def add_module(self, module: ModuleType) -> None:
        for _name, obj in inspect.getmembers(module, inspect.isclass):
            if not issubclass(obj, Project) or obj is Project or not obj.id:
                continue
            if obj.__module__ != module.__name__:
                continue  # imported from elsewhere, registered by its own module
            other = self.projects.get(obj.id)
            if other is not None and other is not obj:
                self.broken[module.__name__] = (f"lab id {obj.id!r} is also used by "
                                                f"{other.__module__}.{other.__name__}")
                continue
            self.projects[obj.id] = obj


def discover(package: str = "labkit.projects") -> Registry:
    """Import every lab module in `package` and collect its Project classes."""
    registry = Registry()
    pkg = importlib.import_module(package)
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name in FRAMEWORK_MODULES or info.name.startswith("_"):
            continue
        name = f"{package}.{info.name}"
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # one broken lab must not hide the others
            registry.broken[name] = f"{type(exc).__name__}: {exc}"
            log.warning("lab module %s cannot be loaded: %s", name, exc)
            continue
        registry.add_module(module)
    return registry


_cached: Registry | None = None
_lock = threading.Lock()


def known_projects() -> dict[str, "KnownProject"]:
    """What the registry knows, in the shape `labkit.curriculum` validates lessons against."""
    from labkit.curriculum import KnownProject

    return {pid: KnownProject(frozenset(cls.check_ids()), frozenset(cls.devices()))
            for pid, cls in registry().projects.items()}


def registry() -> Registry:
    """The labs of this installation (discovered once per process)."""
    global _cached
    with _lock:
        if _cached is None:
            _cached = discover()
        return _cached
