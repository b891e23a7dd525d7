"""`labkit doctor`'s finding about the lab folders (registered by the lab CLI, which loads it).

Lives with the lab framework, not in doctor.py, so the doctor layer never imports upward
(docs/architecture.md § Layers).
"""

from __future__ import annotations

from labkit.config import Settings
from labkit.doctor import Finding


def check_labs(settings: Settings) -> Finding:
    """The lab folders of the package and the data dir; a broken one is named with its file."""
    from labkit.projects.registry import discover

    labs = discover(data_dir=settings.data_dir)
    origins = [spec.origin for spec in labs.specs.values()]
    detail = (f"{len(labs.specs)} lab(s): {origins.count('package')} built in, "
              f"{origins.count('data')} installed")
    data = {"labs": sorted(labs.specs), "problems": [p.as_dict() for p in labs.problems]}
    if labs.problems:
        first = labs.problems[0]
        return Finding("labs", False, f"{detail}; {len(labs.problems)} lab folder(s) cannot be "
                       f"loaded, e.g. {first.lab}: {first}",
                       "fix or remove the folder; 'labkit curriculum check' lists every problem",
                       data=data)
    return Finding("labs", True, detail, data=data)


def register_doctor_check() -> None:
    from labkit import doctor

    if check_labs not in doctor.CHECKS:
        doctor.register_check(check_labs)
