"""Sound and speech on the kit, offline: level, claps, voice activity, English commands,
teachable command words (Chinese first). Each detector is a gpiozero-style device.

Imports are lazy so `import labkit.audio_ai.features` (used by the learn layer) does not pull
onnxruntime or pocketsphinx.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "log_mel": "features", "clip_features": "features",
    "SoundLevel": "level", "ClapDetector": "clap", "VoiceActivity": "vad",
    "VoiceCommands": "kws", "CommandWords": "commands",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(name)
    return getattr(import_module(f"labkit.audio_ai.{module}"), name)
