"""Pin factory selection: gpiozero's real factory on a Pi, a simulated one elsewhere.

The simulated factory is gpiozero's own `MockFactory`, with PWM-capable pins (so LED, RGBLED,
AngularServo and TonalBuzzer work), an HC-SR04 twin whose echo time follows a simulated
distance, and an MCP3008 twin on SPI0 whose channels hold simulated voltages. It is installed
as `gpiozero.Device.pin_factory`, so a student's plain `LED(17)` drives the virtual bench.
"""

from __future__ import annotations

import logging
import os
import threading
from time import sleep
from typing import Any

from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPin, MockPWMPin, MockSPIDevice

from labkit.errors import LabkitError

log = logging.getLogger(__name__)

SPEED_OF_SOUND = 343.26  # m/s, the value gpiozero's DistanceSensor uses
# A Raspberry Pi 4 Model B 4GB (rev 1.2): the board most school kits use.
DEFAULT_SIM_REVISION = "c03112"


class SimPinFactory(MockFactory):
    """MockFactory that hands back an existing pin whatever class is asked for.

    Stock MockFactory refuses to return a pin created with another mock class; the simulator
    pre-creates special pins (trigger, SPI) and then lets ordinary devices open them.
    """

    def __init__(self, revision: str | None = None) -> None:
        super().__init__(revision=revision or os.environ.get("GPIOZERO_MOCK_REVISION",
                                                             DEFAULT_SIM_REVISION),
                         pin_class=MockPWMPin)

    def pin(self, name: Any, pin_class: type | None = None, **kwargs: Any) -> MockPin:
        for _header, info in self.board_info.find_pin(name):
            if info in self.pins:
                return self.pins[info]
            break
        return super().pin(name, pin_class=pin_class, **kwargs)


class SimTriggerPin(MockPWMPin):
    """The trigger pin of a simulated HC-SR04: a pulse makes the echo pin go high for
    the round-trip time of the current simulated distance."""

    def __init__(self, factory: MockFactory, info: Any, echo_pin: MockPin | None = None,
                 distance: float = 0.5) -> None:
        super().__init__(factory, info)
        self.echo_pin = echo_pin
        self.distance = distance
        self._lock = threading.Lock()

    def _set_state(self, value: float) -> None:
        super()._set_state(value)
        if value and self.echo_pin is not None:
            threading.Thread(target=self._echo, daemon=True).start()

    def _echo(self) -> None:
        with self._lock:  # one echo at a time, like the real module
            sleep(0.0001)
            self.echo_pin.drive_high()
            sleep(2 * self.distance / SPEED_OF_SOUND)
            self.echo_pin.drive_low()


class SimMCP3008(MockSPIDevice):
    """An MCP3008 on SPI0 answering gpiozero's single-ended reads from `values` (0.0–1.0)."""

    def __init__(self, factory: MockFactory) -> None:
        super().__init__(11, 10, 9, 8, pin_factory=factory)
        self.values = [0.0] * 8

    def on_start(self) -> None:
        super().on_start()
        self._started_at: int | None = None

    def on_bit(self) -> None:
        # Host sends ...0 0 1 (start) S D2 D1 D0; we answer with a null bit then 10 data bits.
        if self._started_at is None:
            if self.rx_buf and self.rx_buf[-1]:
                self._started_at = self.rx_bit
            return
        if self.rx_bit == self._started_at + 4:
            bits = [int(b) for b in self.rx_buf[-4:]]
            channel = bits[1] << 2 | bits[2] << 1 | bits[3]
            raw = round(max(0.0, min(1.0, self.values[channel])) * 1023)
            self.tx_buf.extend([0, 0])
            self.tx_word(raw, 10)


def make_pin_factory(hardware: str, data_dir: os.PathLike[str] | str | None = None) -> Any:
    """A pin factory for 'sim' or 'real' mode (see labkit.drivers.hardware.resolve_hardware)."""
    if hardware == "sim":
        return SimPinFactory()
    if hardware == "real":
        if data_dir is not None:
            # lgpio writes its notify files in the working directory unless told otherwise
            os.environ.setdefault("LG_WD", str(data_dir))
        try:
            return Device._default_pin_factory()
        except Exception as exc:  # gpiozero raises BadPinFactory with a list of what it tried
            raise LabkitError(f"no GPIO library could open the pins ({exc})",
                              fix="sudo apt install python3-lgpio python3-gpiozero",
                              code="no_hardware") from None
    raise LabkitError(f"unknown hardware mode {hardware!r}", fix="use sim or real",
                      code="bad_setting")


def install_pin_factory(factory: Any) -> Any:
    """Make `factory` gpiozero's default, so plain `LED(17)` uses it too."""
    Device.pin_factory = factory
    return factory
