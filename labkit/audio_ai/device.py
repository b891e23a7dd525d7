"""The gpiozero-device base every sound detector shares (DESIGN § 5).

A detector is a gpiozero `InternalDevice`: it has `value`, `is_active`, `values`,
`when_activated` / `when_deactivated` and `wait_for_active()`, so a child writes

    led.source = clap.toggled.values
    level.when_activated = buzzer.beep

Audio arrives in blocks, either from its own listener thread on a `Microphone` (what a student
program does) or pushed with `feed()` (what `AudioMonitor`, the tests and the benchmark do —
one pass over the audio feeds every detector). Time inside a detector is counted in samples,
not wall-clock seconds, so a WAV file and a live microphone give the same answers.

Events fire on the edge where `is_active` changes, like a pin's edge on a Button.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

import numpy as np

from labkit.drivers.signals import Signal, ValueDevice, ensure_pin_factory
from labkit.drivers.wav import RATE

log = logging.getLogger(__name__)


class AudioDetector(ValueDevice):
    """A pinless gpiozero device whose value comes from processing audio blocks.

    Subclasses implement `_process(block)` (int16 samples, any length) and set the value with
    `_set_value()`. Pass `mic=` to listen on a thread of its own; leave it out and call `feed()`.
    """

    def __init__(self, mic: Any = None, *, pin_factory: Any = None) -> None:
        ensure_pin_factory()
        self._value: float = 0.0
        self._children: list[Signal] = []
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.samples_seen = 0
        super().__init__(pin_factory=pin_factory)
        self._fire_events(self.pin_factory.ticks(), False)
        self.mic = mic
        if mic is not None:
            self._thread = threading.Thread(target=self._listen, name=f"labkit-{type(self).__name__}",
                                            daemon=True)
            self._thread.start()

    # -- gpiozero device surface (value / is_active come from ValueDevice) ---------------------
    @property
    def seconds(self) -> float:
        """Audio time processed so far (samples / 16 kHz)."""
        return self.samples_seen / RATE

    def _set_value(self, value: float) -> None:
        self._value = float(value)
        self._fire_events(self.pin_factory.ticks(), self._value_active())

    def _value_active(self) -> bool:
        return bool(self._value)

    # -- audio in ---------------------------------------------------------------------------
    def feed(self, block: np.ndarray) -> None:
        """Process the next block of 16 kHz mono int16 audio (any length)."""
        block = np.asarray(block).reshape(-1)
        if block.dtype != np.int16:
            block = np.clip(np.round(block), -32768, 32767).astype(np.int16)
        with self._lock:
            self._process(block)
            self.samples_seen += block.size
            for child in self._children:
                child._refresh()

    def process(self, samples: np.ndarray, block: int = 512) -> "AudioDetector":
        """Feed a whole clip through, block by block, exactly as the microphone would."""
        samples = np.asarray(samples).reshape(-1)
        for i in range(0, samples.size, block):
            self.feed(samples[i:i + block])
        return self

    def _process(self, block: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _listen(self) -> None:
        with self.mic.listen() as blocks:
            while not self._stop.is_set():
                data = blocks.get(timeout=0.2)
                if data is None:
                    if getattr(self.mic, "_stop", threading.Event()).is_set():
                        break
                    continue
                try:
                    self.feed(data)
                except Exception:  # a bad block must not kill the detector thread
                    log.exception("%s failed on a block", type(self).__name__)

    def close(self) -> None:
        if not hasattr(self, "_stop"):   # the constructor failed half-way (gpiozero's __del__)
            return
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        self._thread = None
        for child in list(self._children):
            child.close()
        super().close()

    # -- sub-signals ----------------------------------------------------------------------
    def _signal(self, getter: Callable[[], float], name: str) -> "Signal":
        sig = Signal(self, getter, name)
        self._children.append(sig)
        return sig


class UtteranceDetector(AudioDetector):
    """A detector that cuts the stream into utterances and may *hear* a word in each one.

    Shared by the English commands and the teachable command words: `value` is 1.0 for `hold`
    seconds after a word is heard, `when_heard(word, confidence)` runs, `label_is(word)` is a
    sub-device for one word, `bind({word: action})` wires actions. Subclasses create
    `self._segmenter` (a `segment.Segmenter`) and call `_heard_word(word, conf, end)`.
    """

    _segmenter: Any

    def __init__(self, mic: Any = None, *, hold: float = 1.0, pin_factory: Any = None) -> None:
        self.hold = float(hold)
        self.when_heard: Callable[[str, float], Any] | None = None
        self.heard: str | None = None
        self.utterances = 0      # utterances decided so far (heard or not)
        self.heard_count = 0     # of those, the ones in which a word was heard
        self._heard_until = -1.0
        self._word_signals: dict[str, Signal] = {}
        self._switches: dict[tuple[str, str], list[float]] = {}
        super().__init__(mic, pin_factory=pin_factory)

    def _normalise(self, word: str) -> str:
        return word

    def _process(self, block: np.ndarray) -> None:
        self._segmenter.feed(block)
        now = (self.samples_seen + block.size) / RATE
        if self.heard is not None and now > self._heard_until:
            self.heard = None
        self._set_value(1.0 if self.heard is not None else 0.0)

    def flush(self) -> None:
        """End of the audio (a file): decide on the utterance still open."""
        with self._lock:
            self._segmenter.flush()
            self._set_value(1.0 if self.heard is not None else 0.0)
            for child in self._children:
                child._refresh()

    def _heard_word(self, word: str, confidence: float, end: float) -> None:
        self.heard = word
        self.heard_count += 1
        for (on, off), state in self._switches.items():
            if word in (on, off):
                state[0] = 1.0 if word == on else 0.0
        # audio time runs on past the utterance's end while the hangover is waited out
        self._heard_until = end + self.hold + 0.4
        self._set_value(1.0)
        for child in self._children:
            child._refresh()
        if self.when_heard is not None:
            self.when_heard(word, confidence)

    @property
    def label(self) -> str:
        """The word heard in the last `hold` seconds, or "" — the same `label` sub-signal as
        every vision detector, so a lab writes `happened(heard, value=开灯)` either way."""
        return self.heard or ""

    def label_is(self, word: str) -> "Signal":
        """A sub-device active for `hold` seconds after `word` is heard."""
        word = self._normalise(word)
        if word not in self._word_signals:
            self._word_signals[word] = self._signal(
                lambda: 1.0 if self.heard == word else 0.0, f"label_is({word!r})")
        return self._word_signals[word]

    def switch(self, on: str, off: str) -> "Signal":
        """A sub-device that turns on when `on` is heard and stays on until `off` is: a
        lamp that 开灯 lights and 关灯 puts out."""
        key = (self._normalise(on), self._normalise(off))
        state = self._switches.setdefault(key, [0.0])
        return self._signal(lambda: state[0], f"switch({key[0]!r}, {key[1]!r})")

    def bind(self, actions: dict[str, Callable[[], Any]]) -> None:
        """Run an action per word: `words.bind({"开灯": lamp.on, "关灯": lamp.off})`."""
        def run(word: str, _conf: float) -> None:
            action = actions.get(word)
            if action is not None:
                action()
        self.when_heard = run
