"""Hardware drivers, each with a real and a simulated implementation.

`from labkit.drivers import Camera, Microphone, Speaker` is what student programs use.
"""

from labkit.drivers.audio import Microphone, Speaker
from labkit.drivers.camera import Camera, Frame

__all__ = ["Camera", "Frame", "Microphone", "Speaker"]
