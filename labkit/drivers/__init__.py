"""Hardware drivers, each with a real and a simulated implementation.

`from labkit.drivers import Camera, Microphone, Speaker` is what student programs use. The
names are resolved on first access (PEP 562) so that importing one driver module, e.g.
`labkit.drivers.pins`, does not also load the audio and camera stacks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labkit.drivers.audio import Microphone, Speaker
    from labkit.drivers.camera import Camera, Frame

_HOMES = {"Camera": "labkit.drivers.camera", "Frame": "labkit.drivers.camera",
          "Microphone": "labkit.drivers.audio", "Speaker": "labkit.drivers.audio"}

__all__ = ["Camera", "Frame", "Microphone", "Speaker"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
