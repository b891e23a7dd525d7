"""One Settings object, read from environment variables.

Every part of the kit takes a `Settings` instead of reading the environment itself, so tests
can build one with a temp data dir and nothing ever touches the user's home by accident.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from labkit.errors import LabkitError

HARDWARE_MODES = ("auto", "sim", "real")
LANGUAGES = ("zh_CN", "en")


def _default_data_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "labkit"


def _default_model_cache() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "labkit" / "wheels"


@dataclass(frozen=True)
class Settings:
    """Where data lives, which hardware to use, which language and port to serve."""

    data_dir: Path = field(default_factory=_default_data_dir)
    hardware: str = "auto"
    lang: str = "zh_CN"
    port: int = 8080
    host: str = "0.0.0.0"
    camera: str = "auto"
    microphone: str = "auto"
    threads: int = 4
    model_cache: Path = field(default_factory=_default_model_cache)
    model_memory_mb: int = 512

    def __post_init__(self) -> None:
        if self.hardware not in HARDWARE_MODES:
            raise LabkitError(
                f"LABKIT_HARDWARE={self.hardware!r} is not a hardware mode",
                fix="use one of: auto, sim, real",
                code="bad_setting",
            )
        if self.lang not in LANGUAGES:
            raise LabkitError(
                f"LABKIT_LANG={self.lang!r} is not a supported language",
                fix="use zh_CN or en",
                code="bad_setting",
            )
        if not 0 < self.port < 65536:
            raise LabkitError(
                f"LABKIT_PORT={self.port} is not a TCP port", fix="use a number from 1 to 65535",
                code="bad_setting",
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> "Settings":
        """Build settings from `LABKIT_*` variables; explicit overrides win."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        if "LABKIT_DATA" in env:
            values["data_dir"] = Path(env["LABKIT_DATA"]).expanduser()
        if "LABKIT_MODEL_CACHE" in env:
            values["model_cache"] = Path(env["LABKIT_MODEL_CACHE"]).expanduser()
        for key, name in (
            ("hardware", "LABKIT_HARDWARE"),
            ("lang", "LABKIT_LANG"),
            ("host", "LABKIT_HOST"),
            ("camera", "LABKIT_CAMERA"),
            ("microphone", "LABKIT_MICROPHONE"),
        ):
            if name in env and env[name] != "":
                values[key] = env[name].strip()
        for key, name in (
            ("port", "LABKIT_PORT"),
            ("threads", "LABKIT_THREADS"),
            ("model_memory_mb", "LABKIT_MODEL_MEMORY_MB"),
        ):
            if name in env and env[name] != "":
                try:
                    values[key] = int(env[name])
                except ValueError:
                    raise LabkitError(
                        f"{name}={env[name]!r} is not a whole number",
                        fix=f"set {name} to a number",
                        code="bad_setting",
                    ) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def with_(self, **changes: object) -> "Settings":
        """A copy with some fields changed (Settings is immutable)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def ensure_data_dir(self) -> Path:
        """Create the data dir (owner-only, 0700) if needed and check it is writable."""
        from labkit.datadir import private_dir

        try:
            private_dir(self.data_dir)
            probe = self.data_dir / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise LabkitError(
                f"data dir {self.data_dir} is not writable ({exc.strerror})",
                fix="set LABKIT_DATA to a folder you can write to",
                code="data_dir",
            ) from None
        return self.data_dir

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def wiring_file(self) -> Path:
        return self.data_dir / "wiring.yaml"
