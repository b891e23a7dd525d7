"""Hardware drivers, each with a real and a simulated implementation.

`from labkit.drivers import Camera, Microphone, Speaker` is what student programs use. The
names are resolved on first access (PEP 562) so that importing one driver module, e.g.
`labkit.drivers.pins`, does not also load the audio and camera stacks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from labkit.lazynames import lazy_names

if TYPE_CHECKING:
    from labkit.drivers.audio import Microphone, Speaker
    from labkit.drivers.camera import Camera, Frame

_HOMES = {"Camera": "labkit.drivers.camera", "Frame": "labkit.drivers.camera",
          "Microphone": "labkit.drivers.audio", "Speaker": "labkit.drivers.audio"}

__all__ = ["Camera", "Frame", "Microphone", "Speaker"]


__getattr__, __dir__ = lazy_names(globals(), _HOMES, __all__)
