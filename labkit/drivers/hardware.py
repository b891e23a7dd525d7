"""Is this a Raspberry Pi, and which hardware mode do we run in?

`auto` means real pins and camera on a Pi, simulated twins everywhere else; `sim` and `real`
force one. Forcing `real` off a Pi is an error with a clear fix rather than a crash later.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from labkit.errors import LabkitError

MODEL_FILE = Path("/proc/device-tree/model")


def pi_model() -> str | None:
    """The board name from the device tree (e.g. 'Raspberry Pi 5 Model B Rev 1.0'), or None."""
    try:
        text = MODEL_FILE.read_bytes().decode("ascii", "replace").strip("\x00 \n")
    except OSError:
        return None
    return text if "Raspberry Pi" in text else None


def real_pin_library() -> str | None:
    """Which real GPIO library gpiozero could use here, if any."""
    for module in ("lgpio", "RPi.GPIO", "pigpio"):
        try:
            if importlib.util.find_spec(module) is not None:
                return module
        except (ImportError, ValueError):
            continue
    return None


def resolve_hardware(mode: str) -> str:
    """Map auto|sim|real to the mode actually used: 'sim' or 'real'."""
    if mode == "sim":
        return "sim"
    on_pi = pi_model() is not None and real_pin_library() is not None
    if mode == "real":
        if not on_pi:
            raise LabkitError(
                "LABKIT_HARDWARE=real but this is not a Raspberry Pi with a GPIO library",
                fix="run on a Pi with 'sudo apt install python3-gpiozero python3-lgpio', "
                    "or use LABKIT_HARDWARE=sim",
                code="no_hardware",
            )
        return "real"
    if mode == "auto":
        return "real" if on_pi else "sim"
    raise LabkitError(f"unknown hardware mode {mode!r}", fix="use auto, sim or real",
                      code="bad_setting")
