"""The `labkit doctor` finding for models: present and verified, or the exact fix."""

from __future__ import annotations

from labkit.config import Settings
from labkit.doctor import Finding
from labkit.errors import LabkitError


def check_models(settings: Settings) -> Finding:
    from labkit.models.registry import ModelStore
    from labkit.models.sources import all_sources

    try:
        store = ModelStore(settings)
        have = set(store.names())
        wanted = [s.name for s in all_sources()]
        missing = [n for n in wanted if n not in have]
        bad = store.verify()
    except LabkitError as exc:
        return Finding("models", False, exc.message, exc.fix or "labkit models fetch",
                       required=True)
    data = {"dir": str(store.models_dir), "count": len(have), "missing": missing,
            "damaged": sorted(bad)}
    if bad:
        return Finding("models", False, f"{len(bad)} damaged: " + ", ".join(sorted(bad)),
                       "labkit models fetch " + " ".join(sorted(bad)), required=True, data=data)
    if missing:
        detail = (f"none in {store.models_dir}" if not have
                  else f"{len(have)} verified, missing: " + ", ".join(missing))
        return Finding("models", False, detail, "labkit models fetch --if-missing",
                       required=True, data=data)
    return Finding("models", True, f"{len(have)} models verified in {store.models_dir}",
                   data=data)
