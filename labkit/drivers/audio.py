"""Microphone and speaker, 16 kHz mono int16, with simulated twins.

Microphone backends, for `source="auto"`: sounddevice (PortAudio, imported lazily because it
needs libportaudio2) → `arecord` (ALSA utils, always on Raspberry Pi OS) → a simulated source
(quiet room noise, plus any WAV clips injected from the page or a test). An explicit WAV path
plays that file in real time, then carries on with the simulated room; the file stands for the
device node, so deleting it unplugs that twin and putting it back plugs it in again (a test
can do that to a running `labkit serve`). `SimulatedMicSource.unplugged` does the same in
process. The capture thread re-opens a lost microphone every half second, so listeners (the
meter, the detectors) carry on by themselves when it is back.

One capture thread owns the device and hands each listener its own queue of blocks, so a VAD, a
level meter and a clap detector can all listen at once. Audio stays in memory: nothing is
written to disk unless a student saves a sample (children's privacy by default).
"""

from __future__ import annotations

import logging
import queue
import shutil
import subprocess
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any, Iterator, Protocol

import numpy as np

from labkit.config import Settings
from labkit.drivers.hardware import resolve_hardware
from labkit.drivers.wav import RATE, read_wav
from labkit.errors import LabkitError
from labkit.events import EventBus
from labkit.exitstop import stop_at_exit

log = logging.getLogger(__name__)

BLOCK = 512  # 32 ms at 16 kHz: the chunk size silero VAD expects


class AudioSource(Protocol):
    name: str

    def open(self) -> None: ...

    def read_block(self, n: int) -> np.ndarray: ...

    def close(self) -> None: ...


class SimulatedMicSource:
    """A quiet room (low noise, deterministic by seed) plus clips injected with `play()`."""

    name = "simulated"

    def __init__(self, seed: int = 0, noise_dbfs: float = -60.0, realtime: bool = True) -> None:
        self._rng = np.random.default_rng(seed)
        self.noise_amp = 32767.0 * 10 ** (noise_dbfs / 20)
        self.realtime = realtime
        self._pending: deque[np.ndarray] = deque()
        self._lock = threading.Lock()
        self._next_due = 0.0
        #: a fault for tests: the device is gone (reads and opens fail) until this is False
        self.unplugged = False

    def play(self, samples: np.ndarray) -> None:
        """Queue int16 samples to be 'heard' by the microphone next."""
        with self._lock:
            self._pending.append(np.asarray(samples, dtype=np.int16).copy())

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._pending)

    def open(self) -> None:
        if self.unplugged:
            raise OSError("the microphone is unplugged")
        self._next_due = time.monotonic()

    def read_block(self, n: int) -> np.ndarray:
        if self.unplugged:
            raise OSError("the microphone was unplugged")
        if self.realtime:
            now = time.monotonic()
            if self._next_due > now:
                time.sleep(self._next_due - now)
            self._next_due = max(self._next_due + n / RATE, time.monotonic() - 0.5)
        out = (self._rng.standard_normal(n) * self.noise_amp)
        filled = 0
        with self._lock:
            while filled < n and self._pending:
                clip = self._pending[0]
                take = min(n - filled, clip.size)
                out[filled:filled + take] += clip[:take]
                filled += take
                if take == clip.size:
                    self._pending.popleft()
                else:
                    self._pending[0] = clip[take:]
        return np.clip(out, -32768, 32767).astype(np.int16)

    def close(self) -> None:
        pass


class WavFileMicSource(SimulatedMicSource):
    """Plays a WAV file into the simulated room once, in real time."""

    def __init__(self, path: str | Path, seed: int = 0, realtime: bool = True) -> None:
        super().__init__(seed=seed, realtime=realtime)
        self.path = Path(path)
        self.name = f"wav:{self.path.name}"

    def open(self) -> None:
        if not self.path.is_file():
            raise OSError(f"{self.path.name} is not there (the microphone is unplugged)")
        try:
            self.play(read_wav(self.path))
        except LabkitError as exc:
            raise OSError(exc.message) from None
        super().open()

    def read_block(self, n: int) -> np.ndarray:
        if not self.path.exists():
            raise OSError(f"{self.path.name} disappeared (the microphone was unplugged)")
        return super().read_block(n)


class SoundDeviceSource:
    """A USB/I2S microphone through PortAudio (python-sounddevice)."""

    name = "sounddevice"

    def __init__(self, device: Any = None) -> None:
        self.device = device
        self._stream = None

    @staticmethod
    def available() -> bool:
        try:
            import sounddevice as sd  # type: ignore[import-not-found]
            return any(d["max_input_channels"] > 0 for d in sd.query_devices())
        except Exception:  # OSError when libportaudio2 is missing
            return False

    def open(self) -> None:
        try:
            import sounddevice as sd  # type: ignore[import-not-found]
            self._stream = sd.InputStream(samplerate=RATE, channels=1, dtype="int16",
                                          blocksize=BLOCK, device=self.device)
            self._stream.start()
        except Exception as exc:
            raise OSError(f"cannot open microphone: {exc}") from exc

    def read_block(self, n: int) -> np.ndarray:
        if self._stream is None:
            raise OSError("microphone is not open")
        data, _overflowed = self._stream.read(n)
        return np.asarray(data, dtype=np.int16).reshape(-1)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None


class ArecordSource:
    """A microphone through ALSA's `arecord` (no PortAudio needed)."""

    name = "arecord"

    def __init__(self, device: str | None = None) -> None:
        self.device = device
        self._proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        if shutil.which("arecord") is None:
            return False
        try:
            out = subprocess.run(["arecord", "-l"], capture_output=True, text=True, timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return "card" in out.stdout

    def open(self) -> None:
        cmd = ["arecord", "-q", "-t", "raw", "-f", "S16_LE", "-c", "1", "-r", str(RATE)]
        if self.device:
            cmd += ["-D", self.device]
        try:
            self._proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except OSError as exc:
            raise OSError(f"cannot start arecord: {exc}") from exc

    def read_block(self, n: int) -> np.ndarray:
        if self._proc is None or self._proc.stdout is None:
            raise OSError("arecord is not running")
        data = self._proc.stdout.read(n * 2)
        if not data or len(data) < n * 2:
            raise OSError("arecord stopped")
        return np.frombuffer(data, dtype=np.int16).copy()

    def close(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._proc = None


def make_mic_source(spec: str = "auto", *, hardware: str | None = None) -> AudioSource:
    """Turn a microphone setting (auto, simulated, a WAV path, an ALSA/PortAudio device)."""
    spec = (spec or "auto").strip()
    if hardware is None:
        hardware = resolve_hardware(Settings.from_env().hardware)
    if spec in ("simulated", "synthetic"):
        return SimulatedMicSource()
    if spec == "auto":
        if hardware == "sim":
            return SimulatedMicSource()
        if SoundDeviceSource.available():
            return SoundDeviceSource()
        if ArecordSource.available():
            return ArecordSource()
        raise LabkitError("no microphone found", code="no_microphone",
                          fix="plug in a USB microphone, or set LABKIT_MICROPHONE=simulated")
    if spec.lower().endswith(".wav"):
        return WavFileMicSource(spec)      # a missing file: a microphone not plugged in yet
    if spec.startswith(("hw:", "plughw:", "default")):
        return ArecordSource(spec)
    return SoundDeviceSource(int(spec) if spec.isdigit() else spec)


class Microphone:
    """The shared microphone: one capture thread, any number of listeners.

    >>> mic = Microphone("simulated")
    >>> with mic.listen() as blocks:
    ...     block = next(blocks)        # 512 int16 samples at 16 kHz
    """

    def __init__(self, source: str | AudioSource = "auto", *, hardware: str | None = None,
                 block: int = BLOCK, history_seconds: float = 10.0,
                 bus: EventBus | None = None, start: bool = True,
                 missing_ok: bool = False) -> None:
        self.source = (make_mic_source(source, hardware=hardware)
                       if isinstance(source, str) else source)
        self.block = block
        self.rate = RATE
        self.bus = bus
        self._history: deque[np.ndarray] = deque(maxlen=max(1, int(history_seconds * RATE / block)))
        self._listeners: list[queue.Queue[np.ndarray | None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = False
        self.blocks_read = 0
        #: when the device cannot be opened at start, keep trying instead of failing
        self.missing_ok = missing_ok
        if start:
            self.start()

    @property
    def name(self) -> str:
        return self.source.name

    def start(self) -> "Microphone":
        if self._thread is not None:
            return self
        try:
            self.source.open()
            self.connected = True
        except OSError as exc:
            if not self.missing_ok:
                raise LabkitError(f"microphone {self.source.name} cannot be opened: {exc}",
                                  code="no_microphone",
                                  fix="check it is plugged in, or set LABKIT_MICROPHONE=simulated"
                                  ) from None
            log.warning("microphone %s not there yet (%s); waiting for it", self.source.name, exc)
        self._thread = threading.Thread(target=self._run, name="labkit-mic", daemon=True)
        self._thread.start()
        stop_at_exit(self.close)
        return self

    def _run(self) -> None:
        if not self.connected:
            self._reopen()
        while not self._stop.is_set():
            try:
                block = self.source.read_block(self.block)
            except OSError as exc:
                if self.connected:
                    log.warning("microphone %s lost: %s; retrying", self.source.name, exc)
                self.connected = False
                self._reopen()
                continue
            self.blocks_read += 1
            with self._lock:
                self._history.append(block)
                listeners = list(self._listeners)
            for q in listeners:
                if q.full():
                    try:
                        q.get_nowait()
                    except queue.Empty:
                        pass
                q.put_nowait(block)

    def _reopen(self) -> None:
        try:
            self.source.close()
        except Exception:
            pass
        while not self._stop.wait(0.5):
            try:
                self.source.open()
            except OSError:
                continue
            self.connected = True
            log.info("microphone %s is back", self.source.name)
            return

    def listen(self, maxblocks: int = 256) -> "Listener":
        """A new iterator over blocks captured from now on (use it as a context manager)."""
        q: queue.Queue[np.ndarray | None] = queue.Queue(maxblocks)
        with self._lock:
            self._listeners.append(q)
        return Listener(self, q)

    def _remove(self, q: queue.Queue[np.ndarray | None]) -> None:
        with self._lock:
            if q in self._listeners:
                self._listeners.remove(q)

    def record(self, seconds: float) -> np.ndarray:
        """Capture the next `seconds` of audio as one int16 array."""
        need = int(seconds * RATE)
        out: list[np.ndarray] = []
        got = 0
        with self.listen() as blocks:
            for block in blocks:
                out.append(block)
                got += block.size
                if got >= need:
                    break
        return np.concatenate(out)[:need] if out else np.zeros(0, np.int16)

    def recent(self, seconds: float) -> np.ndarray:
        """The last `seconds` of audio from the in-memory history (never saved)."""
        with self._lock:
            blocks = list(self._history)
        if not blocks:
            return np.zeros(0, np.int16)
        data = np.concatenate(blocks)
        return data[-int(seconds * RATE):]

    def inject(self, samples: np.ndarray) -> None:
        """Make a simulated microphone hear `samples` (a WAV uploaded from the page, a test)."""
        if not isinstance(self.source, SimulatedMicSource):
            raise LabkitError("audio can only be injected into the simulated microphone",
                              code="real_hardware", fix="speak into the real microphone")
        self.source.play(samples)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            listeners = list(self._listeners)
        for q in listeners:
            try:
                q.put_nowait(None)
            except queue.Full:
                pass
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        self.source.close()
        self.connected = False

    def __enter__(self) -> "Microphone":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Listener:
    """One consumer's view of the microphone: iterate to get blocks; close when done."""

    def __init__(self, mic: Microphone, q: "queue.Queue[np.ndarray | None]") -> None:
        self._mic, self._q = mic, q

    def __iter__(self) -> Iterator[np.ndarray]:
        return self

    def __next__(self) -> np.ndarray:
        while True:
            if self._mic._stop.is_set() and self._q.empty():
                raise StopIteration
            try:
                block = self._q.get(timeout=0.5)
            except queue.Empty:
                continue
            if block is None:
                raise StopIteration
            return block

    def get(self, timeout: float | None = None) -> np.ndarray | None:
        try:
            return self._q.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._mic._remove(self._q)

    def __enter__(self) -> "Listener":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Speaker:
    """Plays int16 audio: sounddevice → `aplay` → (simulation) an event for the bench."""

    def __init__(self, *, hardware: str | None = None, bus: EventBus | None = None) -> None:
        self.hardware = resolve_hardware(Settings.from_env().hardware) if hardware is None else hardware
        self.bus = bus
        self.played: deque[dict[str, Any]] = deque(maxlen=20)

    @staticmethod
    def backend() -> str | None:
        try:
            import sounddevice as sd  # type: ignore[import-not-found]
            if any(d["max_output_channels"] > 0 for d in sd.query_devices()):
                return "sounddevice"
        except Exception:
            pass
        if shutil.which("aplay"):
            try:
                out = subprocess.run(["aplay", "-l"], capture_output=True, text=True, timeout=5)
                if "card" in out.stdout:
                    return "aplay"
            except (OSError, subprocess.TimeoutExpired):
                pass
        return None

    def play(self, samples: np.ndarray, rate: int = RATE, *, text: str | None = None,
             wait: bool = True) -> None:
        samples = np.asarray(samples, dtype=np.int16)
        info = {"seconds": round(samples.size / rate, 2), "text": text}
        self.played.append(info)
        if self.bus is not None:
            self.bus.publish("speaker.play", info)
        if self.hardware == "sim":
            return
        backend = self.backend()
        if backend == "sounddevice":
            import sounddevice as sd  # type: ignore[import-not-found]
            sd.play(samples, rate)
            if wait:
                sd.wait()
        elif backend == "aplay":
            proc = subprocess.Popen(["aplay", "-q", "-t", "raw", "-f", "S16_LE", "-c", "1",
                                     "-r", str(rate)], stdin=subprocess.PIPE)
            assert proc.stdin is not None
            proc.stdin.write(samples.tobytes())
            proc.stdin.close()
            if wait:
                proc.wait()
        else:
            raise LabkitError("no speaker found", code="no_speaker",
                              fix="plug in a speaker or headphones (3.5 mm, USB or HDMI)")

    def prepare(self) -> "Speaker":
        """Import what speaking needs now (espeak-ng's 22.05 kHz is resampled to 16 kHz by
        scipy, seconds to import on a busy Pi), so a lab's first sentence is not late."""
        from labkit.drivers.wav import resampler

        resampler()
        return self

    def say(self, text: str, lang: str = "zh_CN", *, wait: bool = True, speed: int = 150,
            pitch: int = 50) -> None:
        """Speak `text` with espeak-ng (Chinese by default); `speed` in words per minute and
        `pitch` 0–99 are espeak-ng's own scales."""
        from labkit.drivers.tts import synthesize

        self.play(synthesize(text, lang, speed=speed, pitch=pitch), RATE, text=text, wait=wait)
