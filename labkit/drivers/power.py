"""Switching the kit off or restarting it: `systemctl poweroff` / `systemctl reboot`.

The argv is one of two constant lists — no text from a request ever reaches it. The command
runs a moment after the request (`DELAY_S`), so the page that asked still gets its answer.
In simulation (and so in every test) the simulated twin records the request instead: a
developer's laptop is never switched off by a test.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

ACTIONS = {"poweroff": ("systemctl", "poweroff"), "reboot": ("systemctl", "reboot")}
DELAY_S = 1.5


def _argv(action: str) -> list[str]:
    if action not in ACTIONS:
        raise ValueError(f"unknown power action {action!r}")
    return list(ACTIONS[action])


@dataclass
class SimulatedPower:
    """Records what was asked (action, time) and does nothing else."""
    requests: list[tuple[str, float]] = field(default_factory=list)

    def request(self, action: str) -> None:
        _argv(action)
        self.requests.append((action, time.time()))
        log.info("power %s requested (simulated: nothing happens)", action)


class SystemPower:
    """Asks systemd, after a short delay, on a real kit."""

    def __init__(self, delay_s: float = DELAY_S) -> None:
        self.delay_s = delay_s

    def request(self, action: str) -> None:
        argv = _argv(action)
        log.warning("power %s requested: running %s in %.1f s", action, " ".join(argv),
                    self.delay_s)
        timer = threading.Timer(self.delay_s, self._run, args=(argv,))
        timer.daemon = True
        timer.start()

    @staticmethod
    def _run(argv: list[str]) -> None:
        try:
            subprocess.run(argv, check=False, timeout=60, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.SubprocessError):
            log.exception("%s failed", " ".join(argv))


def power_for(hardware: str) -> SimulatedPower | SystemPower:
    """The real switch on real hardware, the recording twin in simulation."""
    return SystemPower() if hardware == "real" else SimulatedPower()
