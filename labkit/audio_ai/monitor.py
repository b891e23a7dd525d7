"""AudioMonitor: one pass over the microphone feeds every sound detector and the page.

The sound page shows a live meter, waveform and spectrogram with speech regions, claps, voice
activity and recognised commands. Rather than five threads each reading the microphone, one
listener feeds the level meter, the clap detector, silero VAD and both command recognisers
(which cut utterances where the VAD says speech), and about ten times a second a compact
`audio.meter` event goes on the bus for the page (waveform envelope, log-mel columns scaled to
0–255, readings). Recognised commands and claps go out as their own events and run the
actions bound to them (`actions`: word → callable), e.g. the kit's LED.

Nothing heard is stored or logged; only the last few seconds stay in the microphone's memory.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

import numpy as np

from labkit.audio_ai.clap import ClapDetector
from labkit.audio_ai.commands import CommandWords
from labkit.audio_ai.features import log_mel
from labkit.audio_ai.level import SoundLevel, clipped_fraction, dbfs
from labkit.audio_ai.segment import Segmenter, Utterance, VadGate
from labkit.drivers.wav import RATE

log = logging.getLogger(__name__)

PUBLISH_EVERY = 0.1      # seconds of audio between meter events
ENVELOPE_POINTS = 50     # waveform min/max pairs per meter event
MEL_LO, MEL_HI = -14.0, 6.0   # log-mel range mapped to 0–255 for the page


class AudioMonitor:
    """Feeds detectors from one microphone listener and reports to an EventBus."""

    def __init__(self, mic: Any = None, *, bus: Any = None, store: Any = None,
                 kws: bool = True, pin_factory: Any = None) -> None:
        self.mic = mic
        self.bus = bus
        self.level = SoundLevel(pin_factory=pin_factory)
        self.clap = ClapDetector(pin_factory=pin_factory)
        self.vad: Any = None
        self.vad_error: str | None = None
        try:
            from labkit.audio_ai.vad import VoiceActivity

            self.vad = VoiceActivity(store=store, pin_factory=pin_factory)
        except Exception as exc:  # no model fetched yet: the rest of the page still works
            self.vad_error = getattr(exc, "message", str(exc))
            log.warning("voice activity off: %s", self.vad_error)
        gate = VadGate(self.vad, feed=False) if self.vad is not None else None
        self.commands = CommandWords(pin_factory=pin_factory, gate=gate, store=store)
        self.kws: Any = None
        self.kws_error: str | None = None
        if kws:
            try:
                from labkit.audio_ai.kws import VoiceCommands

                self.kws = VoiceCommands(pin_factory=pin_factory, gate=gate)
            except Exception as exc:
                self.kws_error = getattr(exc, "message", str(exc))
                log.warning("English commands off: %s", self.kws_error)
        self.actions: dict[str, Callable[[], Any]] = {}
        self.kws_drives_outputs = False
        self.clap_action: Callable[[], Any] | None = None
        self.commands.when_heard = self._heard_word
        if self.kws is not None:
            self.kws.when_heard = self._heard_command
        self.clap.when_clap = lambda: self._publish("audio.clap", self.clap.reading())
        self.clap.when_double_clap = self._double_clap
        self._pending: list[np.ndarray] = []
        self._pending_len = 0
        self._last_speech: list[dict[str, float]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.blocks = 0
        self.last_meter: dict[str, Any] | None = None
        self.last_action: dict[str, Any] | None = None

    # -- running ------------------------------------------------------------------------------
    def start(self) -> "AudioMonitor":
        if self._thread is None and self.mic is not None:
            self._thread = threading.Thread(target=self._run, name="labkit-audio", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        with self.mic.listen() as blocks:
            while not self._stop.is_set():
                block = blocks.get(timeout=0.2)
                if block is None:
                    continue
                try:
                    self.feed(block)
                except Exception:
                    log.exception("audio monitor failed on a block")

    def feed(self, block: np.ndarray) -> None:
        """Process one block through every detector (the thread calls this; so can a test)."""
        with self._lock:
            self.level.feed(block)
            self.clap.feed(block)
            if self.vad is not None:
                self.vad.feed(block)
            self.commands.feed(block)
            if self.kws is not None:
                self.kws.feed(block)
            self.blocks += 1
            self._pending.append(block)
            self._pending_len += block.size
            if self._pending_len >= PUBLISH_EVERY * RATE:
                chunk = np.concatenate(self._pending)
                self._pending, self._pending_len = [], 0
                self._publish("audio.meter", self.meter(chunk))

    def meter(self, chunk: np.ndarray) -> dict[str, Any]:
        """The page's picture of the latest ~100 ms."""
        n = max(1, chunk.size // ENVELOPE_POINTS)
        usable = chunk[: n * ENVELOPE_POINTS].astype(np.float32) / 32768.0
        env = usable.reshape(ENVELOPE_POINTS, n) if usable.size else np.zeros((1, 1))
        mel = log_mel(chunk)
        scaled = np.clip((mel - MEL_LO) / (MEL_HI - MEL_LO) * 255.0, 0, 255).astype(int)
        out = {
            "t": round(self.level.seconds, 2),
            "level": self.level.reading(),
            "min": np.round(env.min(axis=1), 3).tolist(),
            "max": np.round(env.max(axis=1), 3).tolist(),
            "mel": scaled.tolist(),
            "clap": self.clap.reading(),
            "vad": self.vad.reading() if self.vad is not None else None,
            "commands": {"listening": self.commands.reading()["listening"],
                         "heard": self.commands.reading()["heard"]},
        }
        self.last_meter = out
        return out

    def _publish(self, topic: str, data: Any) -> None:
        if self.bus is not None:
            self.bus.publish(topic, data)

    def _run_action(self, key: str, action: Callable[[], Any] | None) -> None:
        if action is None:
            return
        try:
            action()
            self.last_action = {"trigger": key, "at": time.time()}
        except Exception:
            log.exception("action for %s failed", key)

    def _heard_word(self, word: str, confidence: float) -> None:
        self._publish("audio.command", {"source": "words", "result": self.commands.last})
        self._run_action(word, self.actions.get(word))

    def _heard_command(self, command: str, confidence: float) -> None:
        last = self.kws.history[-1] if self.kws is not None and self.kws.history else None
        self._publish("audio.command", {"source": "kws", "result": last})
        # the English grammar commands are shown, never obeyed: measured on espeak-ng voices
        # they fire on most short non-command words ("read" → green, "top" → stop;
        # tests/unit/audio/test_kws_limits.py), so they would switch the kit at random
        if self.kws_drives_outputs:
            self._run_action(command, self.actions.get(command))

    def _double_clap(self) -> None:
        self._publish("audio.clap", dict(self.clap.reading(), double=True))
        self._run_action("double_clap", self.clap_action)

    def state(self) -> dict[str, Any]:
        """Everything the page needs when it loads (JSON-able)."""
        return {
            "level": self.level.reading(),
            "clap": self.clap.reading(),
            "vad": self.vad.reading() if self.vad is not None else None,
            "vad_error": self.vad_error,
            "kws": self.kws.reading() if self.kws is not None else None,
            "kws_history": list(self.kws.history)[-5:] if self.kws is not None else [],
            "kws_error": self.kws_error,
            "commands": self.commands.reading(),
            "metrics": self.commands.metrics,
            "commands_history": list(self.commands.history)[-5:],
        }

    # -- a whole clip (an uploaded WAV) --------------------------------------------------------
    def analyse(self, samples: np.ndarray) -> dict[str, Any]:
        """What every detector makes of one clip, with fresh state (the live ones untouched)."""
        x = np.asarray(samples, dtype=np.int16).reshape(-1)
        level = SoundLevel(pin_factory=self.level.pin_factory).process(x)
        clap = ClapDetector(threshold_db=self.clap.threshold_db,
                            pin_factory=self.clap.pin_factory).process(x)
        out: dict[str, Any] = {
            "seconds": round(x.size / RATE, 2), "dbfs": round(dbfs(x), 1),
            "peak_dbfs": round(20.0 * np.log10(max(1.0, float(np.abs(x.astype(np.int32)).max()
                                                               if x.size else 1.0)) / 32767.0), 1),
            "clipped": clipped_fraction(x) > 0.001, "claps": clap.count,
            "double_claps": clap.doubles, "speech": [], "utterances": []}
        level.close()
        clap.close()
        gate = None
        vad = None
        if self.vad is not None:
            from labkit.audio_ai.vad import VoiceActivity

            vad = VoiceActivity(model=self.vad.model, pin_factory=self.vad.pin_factory)
            out["speech"] = [s.as_dict() for s in vad.speech_segments(x)]
            vad.reset_state()
            vad.samples_seen = 0
            gate = VadGate(vad)
        utterances: list[Utterance] = []
        seg = Segmenter(utterances.append, gate=gate, max_seconds=3.0)
        for i in range(0, x.size, 512):
            seg.feed(x[i:i + 512])
        seg.flush()
        if vad is not None:
            vad.close()
        for utt in utterances[:20]:
            item: dict[str, Any] = {"start": round(utt.start, 2), "end": round(utt.end, 2)}
            if self.commands.trained:
                word, conf, _probs = self.commands.classify(utt.samples)
                heard = word if (word != "_background" and conf >= self.commands.threshold) else None
                item["word"] = {"heard": heard, "best": word, "confidence": round(conf, 3)}
            if self.kws is not None:
                item["kws"] = self.kws.recognise(utt.samples).as_dict()
            out["utterances"].append(item)
        return out

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        for dev in (self.level, self.clap, self.vad, self.commands, self.kws):
            if dev is not None:
                try:
                    dev.close()
                except Exception:
                    log.exception("closing %s failed", type(dev).__name__)
