"""What a student program may use: time, memory, file size, processes, output.

One frozen value, so the page, the runner and the tests speak of the same numbers. The
defaults suit a Raspberry Pi 4 with 2–4 GB shared by the kit and one program: enough for
numpy and gpiozero, far from enough to starve the kit's pages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """wall_seconds   stop the program after this long, whatever it does (the page's timer)
    cpu_seconds       RLIMIT_CPU: CPU time (a busy loop hits the wall-clock limit too)
    memory_bytes      RLIMIT_AS: address space (a 4 GB allocation fails with MemoryError)
    file_bytes        RLIMIT_FSIZE: the largest file the program may write in its folder
    processes         RLIMIT_NPROC: processes + threads of the program's user (fork bombs)
    open_files        RLIMIT_NOFILE
    output_bytes      stdout + stderr kept for the page; the rest is dropped (and said so)
    line_chars        a longer output line is cut
    """

    wall_seconds: float = 60.0
    cpu_seconds: int = 60
    memory_bytes: int = 768 * MB
    file_bytes: int = 8 * MB
    processes: int = 64
    open_files: int = 128
    output_bytes: int = 64 * 1024
    line_chars: int = 2000

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_(self, **changes: Any) -> "Limits":
        return Limits(**{**self.as_dict(), **changes})
