"""HeardWords: the kit listens for its taught command words on behalf of student programs.

A program cannot open the microphone (the kit owns it), so `labkit.program.heard("开灯")` asks
the kit. The words are the ones the class taught on the sound page and saved (sealed) in
`<data>/audio/commands`; one `CommandWords` follows the kit's shared microphone from the first
question on. Each hearing is numbered, so a program's question is "was this word heard since
I last asked?" and a loop sees every spoken word exactly once. Words taught again on the sound
page are picked up at the next question (the saved model's file changed).

    ears = HeardWords(mic, data_dir / "audio" / "commands", sealer=sealer, store=store)
    cursor = ears.cursor()                     # now: nothing heard yet
    ...
    heard, cursor = ears.since("开灯", cursor)  # said since? and the cursor moved on

Nothing heard is kept beyond the last few hearings' word, number and time.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from labkit.audio_ai.commands import BACKGROUND, CommandWords

KEEP = 64      # hearings remembered (a program asks many times a second)


class HeardWords:
    """The taught command words, heard on `mic` (or fed with `feed`, mic=None). LabkitError
    (`not_found`) when none are saved, `bad_model` when they were trained with other sound
    features than this kit has."""

    def __init__(self, mic: Any, folder: Path | str, *, sealer: Any = None, store: Any = None,
                 embedder: Any = None) -> None:
        self.folder = Path(folder)
        self.sealer = sealer
        self._lock = threading.Lock()
        self._hearings: deque[tuple[int, str, float]] = deque(maxlen=KEEP)
        self._seq = 0
        self._loaded_at = self._stamp()
        words = CommandWords(None, store=store, embedder=embedder)
        try:
            words.load(self.folder, sealer)
        finally:
            words.close()
        # the one that listens: its own thread on the kit's microphone
        self._words = CommandWords(mic, embedder=words.embedder)
        self._words.classifier, self._words.threshold = words.classifier, words.threshold
        self._words.when_heard = self._heard

    def _stamp(self) -> float:
        try:
            return (self.folder / "commands.onnx").stat().st_mtime
        except OSError:
            return -1.0

    def _fresh(self) -> None:
        """Load the saved words again if the sound page saved new ones."""
        stamp = self._stamp()
        if stamp != self._loaded_at:
            self._words.load(self.folder, self.sealer)
            self._loaded_at = stamp

    @property
    def words(self) -> list[str]:
        """The words the kit was taught (without the background class)."""
        self._fresh()
        classes = getattr(self._words.classifier, "classes", ())
        return [str(c) for c in classes if c != BACKGROUND]

    def _heard(self, word: str, confidence: float) -> None:
        with self._lock:
            self._seq += 1
            self._hearings.append((self._seq, word, time.monotonic()))

    def feed(self, block: Any) -> None:
        """Audio pushed in rather than heard on a microphone (a WAV file, a test)."""
        self._words.feed(block)

    def cursor(self, before: float | None = None) -> int:
        """The number of the newest hearing (with `before`, a `time.monotonic()`: the newest
        one before then), so `since` reports only what comes after it."""
        with self._lock:
            if before is None:
                return self._seq
            return max((seq for seq, _w, t in self._hearings if t < before), default=0)

    def since(self, word: str, cursor: int) -> tuple[bool, int]:
        """(whether `word` was heard after hearing number `cursor`, the newest number)."""
        with self._lock:
            heard = any(seq > cursor and w == word for seq, w, _t in self._hearings)
            return heard, self._seq

    def close(self) -> None:
        self._words.close()
