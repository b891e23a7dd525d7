"""Finding the labs: every lab folder in the package and in `<data dir>/labs/` (packs).

Band issues add a lab by adding one folder; nothing else has to be registered. A folder that
cannot be used (bad YAML, a schema error, a check that does not exist, a checks.py that raises)
is reported by name and path as a `LabProblem` — it does not take the other labs or the page
down with it. Hand-written `Project` subclasses (tests, experiments) can be added to a
`Registry` directly.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from labkit.packs.labpack import PackStore
from labkit.projects.base import Project
from labkit.projects.discovery import PACKAGE_LABS, LabProblem, discover_labs
from labkit.projects.lab import LabSpec, make_project
from labkit.store.problems import N_, Problem

if TYPE_CHECKING:
    from labkit.curriculum import KnownProject
    from labkit.drivers.wiring import Wiring

log = logging.getLogger(__name__)


@dataclass
class Registry:
    projects: dict[str, type[Project]] = field(default_factory=dict)
    specs: dict[str, LabSpec] = field(default_factory=dict)
    problems: list[LabProblem] = field(default_factory=list)

    @property
    def broken(self) -> dict[str, str]:
        """path → why, for every lab folder that could not be loaded."""
        return {p.path: p.message for p in self.problems}

    def get(self, project_id: str) -> type[Project]:
        try:
            return self.projects[project_id]
        except KeyError:
            raise Problem(N_("There is no lab called \"%(project)s\"."),
                          fix=N_("The labs on this kit are: %(known)s."),
                          code="unknown_project", project=project_id,
                          known=", ".join(sorted(self.projects)) or "-") from None

    def check_ids(self) -> dict[str, list[str]]:
        """project id → its check ids."""
        return {pid: cls.check_ids() for pid, cls in self.projects.items()}

    def add_spec(self, spec: LabSpec) -> None:
        self.specs[spec.id] = spec
        self.projects[spec.id] = make_project(spec)


def lab_roots(data_dir: Path | None) -> list[tuple[Path, str]]:
    """Where labs are found: the package first, then the data dir's installed packs."""
    if data_dir is None:
        return [(PACKAGE_LABS, "package")]
    packs = PackStore(Path(data_dir))
    # the kit's own labs come from the installed built-in pack when it matches this labkit
    # (the signed install path every kit uses), else straight from the package
    builtin = packs.builtin_labs()
    roots = [(builtin or PACKAGE_LABS, "package"), (Path(data_dir) / "labs", "data")]
    # other signed lab packs: current version of each, retired ones hidden
    roots += [(folder, "data") for folder in packs.lab_roots() if folder != builtin]
    return roots


def discover(roots: Iterable[tuple[Path, str]] | None = None, *, data_dir: Path | None = None,
             wiring: "Wiring | None" = None) -> Registry:
    """Read every lab folder under `roots` (default: the package and `data_dir`)."""
    registry = Registry()
    specs, problems = discover_labs(list(roots) if roots is not None else lab_roots(data_dir),
                                    wiring)
    registry.problems.extend(problems)
    for spec in specs.values():
        try:
            registry.add_spec(spec)
        except Exception as exc:  # e.g. a check id the Project API refuses
            registry.problems.append(LabProblem(spec.id, str(spec.folder / "lab.yaml"),
                                                f"{type(exc).__name__}: {exc}"))
    return registry


_cached: dict[str, Registry] = {}
_lock = threading.Lock()


def _default_data_dir() -> Path:
    from labkit.config import Settings

    return Settings.from_env().data_dir


def registry(data_dir: Path | None = None) -> Registry:
    """The labs of this installation and data dir (discovered once per process)."""
    data_dir = Path(data_dir) if data_dir is not None else _default_data_dir()
    key = str(data_dir)
    with _lock:
        if key not in _cached:
            _cached[key] = discover(data_dir=data_dir)
        return _cached[key]


def forget() -> None:
    """Drop the cached registries (after a lab pack was installed or removed)."""
    with _lock:
        _cached.clear()


def known_projects(data_dir: Path | None = None) -> dict[str, "KnownProject"]:
    """What the registry knows, in the shape `labkit.curriculum` validates plans against."""
    from labkit.curriculum import KnownProject

    return {pid: KnownProject(frozenset(cls.check_ids()), frozenset(cls.devices()))
            for pid, cls in registry(data_dir).projects.items()}
