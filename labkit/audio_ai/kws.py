"""VoiceCommands: a few English voice commands, offline, with pocketsphinx's en-us model.

pocketsphinx 5 runs in *grammar mode*: a JSGF grammar that allows exactly one command from a
short list ("lights on", "lights off", "red", "green", "stop" …). Grammar mode always answers
with *some* command, so unrelated talk needs a rejection path; open-vocabulary decoding and
keyphrase spotting were tried and are unusable on synthetic speech, and a garbage loop inside
the grammar makes the search seconds slow, so rejection uses three cheap checks instead:

1. the hypothesis must be one whole command (a half path such as "lights" is rejected);
2. the utterance must be short: at most `max_speech` seconds of sound (a command is a word or
   two; a sentence is not a command);
3. a confidence in 0–1 must reach `threshold` (the page's slider). It is the share of the
   utterance's loud frames that the decoder explains with the command's words (the rest it
   had to call silence), lowered when the command had to be stretched unnaturally slowly
   (more than 16 frames = 160 ms per phone) to cover the sound.

    kws = VoiceCommands(mic, commands=["lights on", "lights off"])
    kws.label_is("lights on").when_activated = lamp.on
    kws.label_is("lights off").when_activated = lamp.off
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np

from labkit.audio_ai.device import UtteranceDetector
from labkit.audio_ai.features import frame_energy_db
from labkit.audio_ai.segment import EnergyGate, Segmenter, Utterance, VadGate
from labkit.drivers.wav import RATE
from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _

log = logging.getLogger(__name__)

DEFAULT_COMMANDS = ("lights on", "lights off", "red", "green", "blue", "stop", "forward",
                    "back", "left", "right")
MAX_COMMANDS = 30
SLOW_FRAMES_PER_PHONE = 16.0
FLOOR_NOISE = 30.0    # ≈ -58 dBFS
CMN_MODE = "batch"   # cepstral mean per utterance: a result never depends on the one before
_WORD = re.compile(r"^[a-z']+$")


@dataclass
class KwsResult:
    """What the decoder made of one utterance."""

    command: str | None        # the accepted command, or None (rejected)
    hypothesis: str            # what grammar mode answered
    confidence: float
    speech_seconds: float
    reason: str                # "ok", "no_hypothesis", "partial", "too_long", "low_confidence"
    ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["confidence"] = round(self.confidence, 3)
        d["speech_seconds"] = round(self.speech_seconds, 2)
        return d


def _model_dir() -> str:
    from pocketsphinx import get_model_path  # type: ignore[import-untyped]

    return str(get_model_path())


class VoiceCommands(UtteranceDetector):
    """`value` is 1.0 for `hold` seconds after any command is accepted."""

    def __init__(self, mic: Any = None, *, commands: Sequence[str] = DEFAULT_COMMANDS,
                 threshold: float = 0.5, max_speech: float = 1.2, hold: float = 1.0,
                 vad: Any = None, gate: Any = None,
                 pin_factory: Any = None) -> None:
        try:
            from pocketsphinx import Decoder  # type: ignore[import-untyped]
        except ImportError:
            raise LabkitError(_("English voice commands need pocketsphinx, which is not installed."),
                              code="no_kws", fix=_("Install pocketsphinx: make run")) from None
        self.threshold = float(threshold)
        self.max_speech = float(max_speech)
        self._decoder = Decoder(samprate=RATE, loglevel="FATAL", cmn=CMN_MODE)
        self._search = 0
        self.commands: list[str] = []
        self.set_commands(commands)
        self.last: KwsResult | None = None
        self.history: deque[dict[str, Any]] = deque(maxlen=20)
        self._segmenter = Segmenter(self._on_utterance,
                                    gate=gate or (VadGate(vad) if vad is not None
                                                  else EnergyGate()),
                                    max_seconds=3.0)
        super().__init__(mic, hold=hold, pin_factory=pin_factory)

    # -- the grammar --------------------------------------------------------------------------
    def set_commands(self, commands: Sequence[str]) -> list[str]:
        """Use a new command list (each word must be in pocketsphinx's English dictionary)."""
        cleaned: list[str] = []
        for raw in commands:
            cmd = " ".join(str(raw).lower().split())
            if not cmd:
                continue
            for word in cmd.split():
                if not _WORD.match(word) or self._decoder.lookup_word(word) is None:
                    raise LabkitError(_("'%(word)s' is not in the English dictionary.", word=word),
                                      code="bad_command",
                                      fix=_("Use common English words (letters only)."))
            if cmd not in cleaned:
                cleaned.append(cmd)
        if not cleaned:
            raise LabkitError(_("There are no commands."), code="bad_command",
                              fix=_("Give at least one command, e.g. 'lights on'."))
        if len(cleaned) > MAX_COMMANDS:
            raise LabkitError(_("At most %(n)s commands.", n=MAX_COMMANDS), code="bad_command",
                              fix=_("Grammar mode works best with a short list."))
        grammar = ("#JSGF V1.0;\ngrammar labkit;\npublic <command> = "
                   + " | ".join(cleaned) + ";\n")
        with getattr(self, "_lock", _NoLock()):
            self._search += 1
            name = f"commands{self._search}"
            self._decoder.add_jsgf_string(name, grammar)
            self._decoder.activate_search(name)
            self.commands = cleaned
            self._words = {w for c in cleaned for w in c.split()}
            self._phones = {c: sum(len(self._decoder.lookup_word(w).split()) for w in c.split())
                            for c in cleaned}
        return cleaned

    # -- recognising --------------------------------------------------------------------------
    def recognise(self, samples: np.ndarray) -> KwsResult:
        """Decode one utterance (int16, 16 kHz) and decide whether it is a command."""
        x = np.asarray(samples).reshape(-1)
        if x.dtype != np.int16:
            x = np.clip(np.round(x), -32768, 32767).astype(np.int16)
        t0 = time.perf_counter()
        with self._lock:
            result = self._decode(x)
        result.ms = round((time.perf_counter() - t0) * 1000, 1)
        return result

    def _decode(self, x: np.ndarray) -> KwsResult:
        db = frame_energy_db(x) if x.size else np.zeros(0)
        loud = db > max(float(db.max()) - 30.0, -55.0) if db.size else db.astype(bool)
        speech_seconds = float(np.count_nonzero(loud)) / 100.0
        if x.size < RATE // 10 or not np.any(loud):
            return KwsResult(None, "", 0.0, speech_seconds, "no_hypothesis")
        # Digital silence (a synthetic WAV) is not what the acoustic model was trained on: give
        # it the faint noise floor every real microphone has (seeded, so results repeat).
        floor = np.random.default_rng(x.size).standard_normal(x.size) * FLOOR_NOISE
        x = np.clip(x.astype(np.float64) + floor, -32768, 32767).astype(np.int16)
        d = self._decoder
        d.start_utt()
        d.process_raw(x.tobytes(), False, True)
        d.end_utt()
        hyp = d.hyp()
        text = hyp.hypstr if hyp is not None else ""
        if not text:
            return KwsResult(None, "", 0.0, speech_seconds, "no_hypothesis")
        if text not in self.commands:
            return KwsResult(None, text, 0.0, speech_seconds, "partial")
        mask = np.zeros(loud.size, dtype=bool)
        frames = 0
        for seg in d.seg():
            if seg.word in self._words:
                mask[seg.start_frame:seg.end_frame + 1] = True
                frames += seg.end_frame - seg.start_frame + 1
        coverage = float(np.count_nonzero(mask & loud)) / max(1, int(np.count_nonzero(loud)))
        per_phone = frames / max(1, self._phones[text])
        confidence = coverage * min(1.0, SLOW_FRAMES_PER_PHONE / max(per_phone, 1e-6))
        if speech_seconds > self.max_speech:
            return KwsResult(None, text, confidence, speech_seconds, "too_long")
        if confidence < self.threshold:
            return KwsResult(None, text, confidence, speech_seconds, "low_confidence")
        return KwsResult(text, text, confidence, speech_seconds, "ok")

    def _normalise(self, word: str) -> str:
        return " ".join(word.lower().split())

    def _on_utterance(self, utt: Utterance) -> None:
        t0 = time.perf_counter()
        result = self._decode(utt.samples)
        result.ms = round((time.perf_counter() - t0) * 1000, 1)
        self.last = result
        entry = result.as_dict()
        entry.update(start=round(utt.start, 3), end=round(utt.end, 3))
        self.utterances += 1
        self.history.append(entry)
        if result.command is not None:
            self._heard_word(result.command, result.confidence, utt.end)

    def reading(self) -> dict[str, Any]:
        return {"commands": self.commands, "threshold": self.threshold,
                "heard": self.heard, "last": self.last.as_dict() if self.last else None}


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
