"""Text to speech with espeak-ng, offline, in Chinese and English.

Chinese uses the `cmn-latn-pinyin` voice: plain `cmn` is broken in Bookworm's espeak-ng 1.51.
espeak-ng writes 22.05 kHz; we resample to the kit's 16 kHz with a polyphase filter.

The text always reaches espeak-ng on its stdin (`--stdin`), never as an argument: a text such
as `--phonout=FILE` or `-f FILE` would otherwise be read as an option that writes or reads
files. The voice variant is checked against a plain-name pattern for the same reason.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np

from labkit.drivers.wav import RATE, read_wav
from labkit.errors import LabkitError

VOICES = {"zh_CN": "cmn-latn-pinyin", "zh": "cmn-latn-pinyin", "en": "en"}
MAX_CHARS = 500
MAX_SPEECH_SECONDS = 180    # 500 characters spoken slowly
VARIANT_PATTERN = re.compile(r"[A-Za-z0-9_]{1,20}")
# control characters other than tab/newline: espeak-ng treats some of them as commands
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def voice_for(lang: str) -> str:
    try:
        return VOICES[lang]
    except KeyError:
        raise LabkitError(f"no speech voice for language {lang!r}", code="bad_input",
                          fix="use zh_CN or en") from None


def espeak_path() -> str | None:
    return shutil.which("espeak-ng")


def synthesize(text: str, lang: str = "zh_CN", *, variant: str = "", speed: int = 150,
               pitch: int = 50, rate: int = RATE) -> np.ndarray:
    """Speak `text` into int16 mono samples at `rate` (16 kHz by default)."""
    if not text or not text.strip():
        raise LabkitError("there is nothing to say", code="bad_input", fix="give some text")
    if len(text) > MAX_CHARS:
        raise LabkitError(f"text is longer than {MAX_CHARS} characters", code="bad_input",
                          fix="say it in shorter parts")
    exe = espeak_path()
    if exe is None:
        raise LabkitError("espeak-ng is not installed", code="no_tts",
                          fix="sudo apt install espeak-ng")
    if variant and not VARIANT_PATTERN.fullmatch(variant):
        raise LabkitError(f"voice variant {variant!r} is not a voice variant name",
                          code="bad_input", fix="use a name such as f2 or m3")
    voice = voice_for(lang) + (f"+{variant}" if variant else "")
    cmd = [exe, "-v", voice, "-s", str(int(speed)), "-p", str(int(pitch)), "--stdout",
           "--stdin"]
    spoken = _CONTROL.sub(" ", text).encode("utf-8", errors="replace")
    try:
        out = subprocess.run(cmd, input=spoken, capture_output=True, timeout=30, check=True)
    except subprocess.CalledProcessError as exc:
        raise LabkitError(f"espeak-ng failed: {exc.stderr.decode(errors='replace').strip()}",
                          code="tts_failed", fix="check the voice is installed: espeak-ng --voices") from None
    except subprocess.TimeoutExpired:
        raise LabkitError("espeak-ng took too long", code="tts_failed",
                          fix="say a shorter text") from None
    return read_wav(out.stdout, target_rate=rate, max_seconds=MAX_SPEECH_SECONDS)
