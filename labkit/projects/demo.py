"""A lab's demo scenario: lab.yaml `demo:` compiled into a timeline the runner plays.

    demo:
      - repeat: 3
        do:
          - {for: 4, camera: face}                   # a scene for 4 seconds
          - {for: 2, camera: empty}
      - {for: 1, sound: {clip: clap, n: 2}}          # sounds start with their item
      - {for: 1, bench: {device: button, action: click}}
      - {for: 1, event: {topic: learn.trained, data: {accuracy: 0.9}}}
      - {for: 1, keep: picture}                      # "Keep this picture" is pressed
      - {for: 2, program: {device: led, value: 1}}   # what the student's program does

Items play in order; an item without `camera:` keeps the previous scene (the first is
`empty`). `camera:` is a scene name or `{scene: name, ...params}` (labkit/drivers/scenes.py);
`sound:` a clip name or `{clip: name, ...}` (labkit/drivers/clips.py); `bench:` one or a list
of virtual-bench inputs (as the page sends them); `event:` a bus event for `events:` checks;
`keep: picture` keeps the camera picture as a student's button would (runner.keep_picture);
`program:` one or a list of `{device, value}` sets the kit's outputs as the student's program
would in a `programs: true` lab (a demo cannot run the student's own program: it plays what
that program does, and a `code.program` `event:` stands for the run itself).

The same timeline serves a fast run on a simulated clock (tests, `labkit run LAB --demo`: the
runner asks for `frame_at(t)` and `audio(t0, t1)` itself) and the page's Demo button on the
real clock (the camera shows `frame_at`, the sounds go into the simulated microphone).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labkit.drivers import clips, scenes
from labkit.drivers.wav import RATE

DEFAULT_FPS = 10.0
BENCH_KEYS = {"device", "action", "value", "celsius"}
OUTPUT_KEYS = {"device", "value"}


class DemoError(ValueError):
    def __init__(self, path: list[Any], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


@dataclass
class Segment:
    start: float
    end: float
    scene: tuple[str, dict[str, Any]]
    sounds: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    bench: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)   # what a program drives
    keep: bool = False          # the student presses "Keep this picture" as it starts


def _scene(value: Any, path: list[Any]) -> tuple[str, dict[str, Any]]:
    if isinstance(value, str):
        kind, params = value, {}
    else:
        params = dict(value)
        kind = str(params.pop("scene"))
    try:
        scenes.check_scene(kind, params)
    except scenes.SceneError as exc:
        raise DemoError(path, str(exc)) from None
    return kind, params


def _sound(value: Any, path: list[Any]) -> tuple[str, dict[str, Any]]:
    if isinstance(value, str):
        kind, params = value, {}
    else:
        params = dict(value)
        if "say" in params:
            kind, params["text"] = "say", params.pop("say")
        else:
            kind = str(params.pop("clip", ""))
    try:
        clips.check(kind, params)
    except (clips.ClipError, TypeError, ValueError) as exc:
        raise DemoError(path, str(exc)) from None
    return kind, params


def compile_script(items: list[dict[str, Any]], wired: set[str] | None = None
                   ) -> list[Segment]:
    """The flat timeline of `items`; DemoError names the item at fault."""
    out: list[Segment] = []
    state = {"t": 0.0, "scene": ("empty", {})}

    def walk(seq: list[dict[str, Any]], path: list[Any]) -> None:
        for i, item in enumerate(seq):
            here = [*path, i]
            if "repeat" in item:
                for _ in range(int(item["repeat"])):
                    walk(item["do"], [*here, "do"])
                continue
            if "camera" in item:
                state["scene"] = _scene(item["camera"], [*here, "camera"])
            seg = Segment(state["t"], state["t"] + float(item["for"]), state["scene"])
            if "sound" in item:
                seg.sounds.append(_sound(item["sound"], [*here, "sound"]))
            bench = item.get("bench", [])
            for ev in bench if isinstance(bench, list) else [bench]:
                unknown = set(ev) - BENCH_KEYS
                if unknown:
                    raise DemoError([*here, "bench"], f"unknown bench key(s) {sorted(unknown)}")
                if wired is not None and ev["device"] not in wired:
                    raise DemoError([*here, "bench"], f"{ev['device']!r} is not in the lab's "
                                                      f"wiring")
                seg.bench.append(dict(ev))
            program = item.get("program", [])
            for ev in program if isinstance(program, list) else [program]:
                if set(ev) != OUTPUT_KEYS:
                    raise DemoError([*here, "program"], "a program item is {device, value}")
                if wired is not None and ev["device"] not in wired:
                    raise DemoError([*here, "program"], f"{ev['device']!r} is not in the lab's "
                                                        f"wiring")
                seg.outputs.append(dict(ev))
            if "event" in item:
                seg.events.append(dict(item["event"]))
            if item.get("keep") == "picture":
                seg.keep = True
            out.append(seg)
            state["t"] = seg.end

    walk(items, [])
    return out


class Scenario:
    """A compiled demo: what the camera shows, the microphone hears and the bench does."""

    def __init__(self, items: list[dict[str, Any]], *, fps: float = DEFAULT_FPS) -> None:
        self.segments = compile_script(items)
        self.fps = fps
        self.duration = self.segments[-1].end if self.segments else 0.0
        self._audio: np.ndarray | None = None
        self._clips: dict[tuple[str, str], np.ndarray] = {}

    def prepare(self) -> "Scenario":
        """Draw every still scene and make every sound once, before the clock starts: a
        rendered hand takes a few hundred milliseconds to paint, which would otherwise stall
        the real-time camera just when the scene changes."""
        for seg in self.segments:
            kind, params = seg.scene
            if kind in scenes.STATIC:
                scenes.render(kind, params, 0.0)
            for kind, params in seg.sounds:
                self._clip(kind, params)
        return self

    def _clip(self, kind: str, params: dict[str, Any]) -> np.ndarray:
        key = (kind, repr(sorted(params.items())))
        if key not in self._clips:
            self._clips[key] = clips.make(kind, params)
        return self._clips[key]

    @property
    def uses_sound(self) -> bool:
        return any(s.sounds for s in self.segments)

    def segment_at(self, t: float) -> Segment:
        for seg in self.segments:
            if t < seg.end:
                return seg
        return self.segments[-1]

    def frame_at(self, t: float) -> np.ndarray:
        """The camera picture `t` seconds into the demo (the last scene holds after the end)."""
        seg = self.segment_at(t)
        kind, params = seg.scene
        return scenes.render(kind, params, max(0.0, t - seg.start))

    def actions(self, t0: float, t1: float) -> list[tuple[str, dict[str, Any]]]:
        """Bench inputs, program outputs and bus events due in [t0, t1), in order."""
        out: list[tuple[str, dict[str, Any]]] = []
        for seg in self.segments:
            if t0 <= seg.start < t1:
                out.extend(("bench", ev) for ev in seg.bench)
                out.extend(("program", ev) for ev in seg.outputs)
                out.extend(("event", ev) for ev in seg.events)
                if seg.keep:
                    out.append(("keep", {}))
        return out

    def sounds(self, t0: float, t1: float) -> list[np.ndarray]:
        """The clips starting in [t0, t1) (for the real-time demo's simulated microphone)."""
        return [self._clip(kind, params) for seg in self.segments if t0 <= seg.start < t1
                for kind, params in seg.sounds]

    def _track(self) -> np.ndarray:
        if self._audio is None:
            n = int((self.duration + 2.0) * RATE)
            track = np.random.default_rng(0).standard_normal(n) * 32767 * 10 ** (-60 / 20)
            for seg in self.segments:
                at = int(seg.start * RATE)
                for kind, params in seg.sounds:
                    clip = self._clip(kind, params).astype(np.float64)[: max(0, n - at)]
                    track[at:at + clip.size] += clip
            self._audio = np.clip(track, -32768, 32767).astype(np.int16)
        return self._audio

    def audio(self, t0: float, t1: float) -> np.ndarray:
        """What the microphone hears from t0 to t1 (room noise after the scenario ends)."""
        track = self._track()
        a, b = int(round(t0 * RATE)), int(round(t1 * RATE))
        if a >= track.size:
            rng = np.random.default_rng(a)
            return (rng.standard_normal(b - a) * 32767 * 10 ** (-60 / 20)).astype(np.int16)
        return track[a:b]
