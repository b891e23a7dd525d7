"""What a student program imports to use the kit: its camera, faces, speech — through the kit.

    from gpiozero import LED
    from labkit.program import Camera, say, sensor

    led = LED(17)                 # the kit's LED (the pin factory forwards to the kit)
    camera = Camera("kit")        # the kit's own camera: it is never opened twice
    frame = camera.read()         # a numpy array (height × width × 3, BGR)
    if camera.faces():
        led.on()
    hand = camera.detect("hands")  # any vision task of the kit: count, label, score
    if hand.label == "fist":
        say("拳头")
    if sensor("light") < 0.3:     # the kit's sensors: light, soil, temperature, distance …
        led.on()
    if camera.predict("猫狗").label == "猫":   # a model you taught on the teach page
        say("是猫")
    if heard("开灯"):               # a command word the class taught on the sound page
        led.on()
    say("你好")

In the kit's sandbox the connection is already there. From a terminal on the kit, start the
program with the kit's socket in the environment (see docs/code-lab.md):

    LABKIT_KIT_SOCKET=/var/lib/labkit/kit.sock python my_program.py

Importing this module makes the kit's pins gpiozero's default, so `LED(17)` works without
`GPIOZERO_PIN_FACTORY`. It imports numpy only when a frame is read.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from labkit.sandbox import kitpins

__all__ = ["Camera", "Detection", "TASKS", "heard", "say", "sensor", "sound_level",
           "connection"]

#: the vision tasks `Camera.detect` offers (the kit's detectors of the same names)
TASKS = ("face", "hands", "pose", "emotion", "colour", "shapes", "text")


def connection() -> kitpins.KitConnection:
    """The program's connection to the kit (made on first use)."""
    conn = kitpins.shared_connection()
    from gpiozero import Device

    if not isinstance(Device.pin_factory, kitpins.KitPinFactory):
        Device.pin_factory = kitpins.KitPinFactory(conn)
    return conn


@dataclass(frozen=True)
class Detection:
    """What one vision task found in the kit's newest frame.

    count  how many (faces, hands, people, blobs of the colour, shapes, lines of text)
    label  the best one's label: a hand's gesture (fist, open_palm …), an emotion, a shape,
           the first line of text; "" when nothing is found
    score  the best one's score 0–1 (for colour and shapes: the share of the picture)
    """

    count: int
    label: str
    score: float

    @property
    def present(self) -> bool:
        return self.count > 0


class Camera:
    """The kit's camera, read through the kit. `Camera("kit")` is the only source."""

    def __init__(self, source: str = "kit") -> None:
        if source != "kit":
            raise ValueError('a program reads the kit\'s camera: use Camera("kit")')
        self._conn = connection()
        self._seq = 0

    def read(self) -> Any:
        """The next new frame as a numpy array (height × width × 3, BGR, uint8)."""
        import numpy as np

        reply = self._conn.call("camera.read", after=self._seq)
        self._seq = int(reply["seq"])
        data = base64.b64decode(reply["data"])
        return np.frombuffer(data, dtype=reply["dtype"]).reshape(reply["shape"])

    def faces(self) -> list[dict[str, Any]]:
        """Faces the kit sees now: [{"box": [x, y, w, h], "score": 0.93}, …]."""
        return list(self._conn.call("vision.faces"))

    def detect(self, task: str, colour: str | None = None) -> Detection:
        """Run one of the kit's vision tasks (TASKS) on its newest frame.

        `camera.detect("hands").label == "fist"`, `camera.detect("colour", colour="red").present`
        """
        args: dict[str, Any] = {"task": str(task)}
        if colour is not None:
            args["colour"] = str(colour)
        reply = self._conn.call("vision.detect", **args)
        return Detection(int(reply["count"]), str(reply["label"]), float(reply["score"]))

    def predict(self, project: str) -> Detection:
        """What one of your teachable models (made on the kit's teach page, by its name) says
        about what the kit sees or hears now: `camera.predict("猫狗").label == "猫"`.
        count is 1 when it names a class, 0 when it is unsure."""
        reply = self._conn.call("learn.predict", project=str(project))
        label = str(reply["label"])
        return Detection(1 if label else 0, label, float(reply["score"]))


def sensor(name: str) -> Any:
    """A kit sensor's reading now, by its wiring name: light and soil 0–1, temperature °C,
    distance metres, button and motion True/False. The analog sensors sit on the kit's ADC,
    which only the kit reads, so this is how a program reads them."""
    return connection().call("sensor.read", name=str(name))


def sound_level() -> float:
    """How loud it is at the kit now, in dB (about 30 in a quiet room, 70 when loud), from the
    kit's microphone: a program never opens the microphone itself."""
    return float(connection().call("sound.level"))


def heard(word: str) -> bool:
    """True when the kit heard the command word `word` since this program last asked about it
    (the first time: since the program started), so a loop sees each spoken word once:

        while True:
            if heard("开灯"):
                led.on()

    The words are the ones the class taught the kit on its sound page; the kit's microphone
    does the listening (a program never opens it). An untaught word is refused with the list
    of the taught ones."""
    return bool(connection().call("audio.heard", word=str(word)))


def say(text: str, lang: str = "zh_CN") -> None:
    """Speak `text` on the kit's speaker (Chinese by default; lang="en" for English)."""
    connection().call("say", text=str(text), lang=lang)


# the kit's pins, now: a program that cannot reach the kit says so on its first line rather
# than open the GPIO chip the kit already owns
connection()
