"""The virtual bench follows gpiozero devices and drives their inputs."""

import gpiozero
import pytest

from labkit.drivers.bench import VirtualBench, tmp36_celsius
from labkit.drivers.gpio import install_pin_factory, make_pin_factory
from labkit.drivers.kit import Kit
from labkit.drivers.wiring import load_wiring
from labkit.errors import LabkitError
from labkit.events import EventBus
from tests.helpers import wait_until


@pytest.fixture
def bench():
    factory = install_pin_factory(make_pin_factory("sim"))
    kit = Kit(load_wiring(None), factory, "sim")
    b = VirtualBench(kit, EventBus())
    yield b
    b.close()
    kit.close()
    factory.close()


def test_plain_gpiozero_led_shows_on_the_bench(bench):
    led = gpiozero.LED(17)
    assert bench.state()["led"]["value"] == 0.0
    led.on()
    assert bench.state()["led"]["value"] == 1.0
    led.close()


def test_bench_button_press_fires_when_pressed(bench):
    button = gpiozero.Button(26)
    presses, releases = [], []
    button.when_pressed = lambda: presses.append(1)
    button.when_released = lambda: releases.append(1)
    bench.apply({"device": "button", "action": "press"})
    assert button.is_pressed and bench.state()["button"]["pressed"]
    bench.apply({"device": "button", "action": "release"})
    assert presses == [1] and releases == [1]
    assert not bench.state()["button"]["pressed"]
    button.close()


def test_motion_sensor_follows_bench(bench):
    pir = gpiozero.MotionSensor(4)
    bench.apply({"device": "motion", "value": True})
    assert pir.wait_for_motion(timeout=2) and bench.state()["motion"]["active"]
    bench.apply({"device": "motion", "value": False})
    assert pir.wait_for_no_motion(timeout=2) and not bench.state()["motion"]["active"]
    pir.close()


def test_distance_slider_moves_the_hc_sr04_twin(bench):
    bench.apply({"device": "distance", "value": 0.3})
    sensor = gpiozero.DistanceSensor(echo=24, trigger=23, max_distance=2.0, queue_len=3)
    # the twin's echo is timed with sleep(): on a busy machine a late thread lengthens some
    # echoes, so a reading is taken until one is right rather than read again once more
    readings: list[float] = []

    def reads_it() -> bool:
        readings.append(sensor.distance)
        return abs(readings[-1] - 0.3) <= 0.05

    settled = wait_until(reads_it, timeout=15, every=0.1)
    sensor.close()
    assert settled, f"the HC-SR04 twin never read 0.3 m: {readings[-5:]}"


def test_analog_sensors_through_mcp3008_twin(bench):
    bench.apply({"device": "light", "value": 0.25})
    assert gpiozero.MCP3008(channel=0).value == pytest.approx(0.25, abs=0.002)
    bench.apply({"device": "temperature", "celsius": 30.0})
    raw = gpiozero.MCP3008(channel=2).value
    assert tmp36_celsius(raw) == pytest.approx(30.0, abs=0.4)
    assert bench.state()["temperature"]["celsius"] == pytest.approx(30.0, abs=0.1)


def test_servo_rgb_and_buzzer_states(bench):
    bench.kit.servo.angle = 45
    bench.kit.rgb.color = (1, 0, 0.5)
    bench.kit.buzzer.on()
    state = bench.state()
    assert state["servo"]["angle"] == pytest.approx(45, abs=0.5)
    assert state["rgb"]["value"] == [1.0, 0.0, 0.5]
    assert state["buzzer"]["value"] == 1.0


def test_state_changes_are_published(bench):
    sub = bench.bus.subscribe("bench.state")
    bench.poll_once()
    sub.get(timeout=1)  # first snapshot
    bench.kit.led.on()
    assert bench.poll_once()
    event = sub.get(timeout=1)
    assert event.data["led"]["value"] == 1.0
    assert not bench.poll_once()  # nothing changed → nothing published


@pytest.mark.parametrize("event, code", [
    ({"device": "laser"}, "unknown_device"),
    ({"device": "button", "action": "smash"}, "bad_input"),
    ({"device": "distance", "value": 99}, "bad_input"),
    ({"device": "distance", "value": "far"}, "bad_input"),
    ({"device": "light", "value": float("nan")}, "bad_input"),
    ({"device": "led", "value": 1}, "not_an_input"),
    (["button"], "bad_input"),
])
def test_bad_bench_input_is_rejected_and_changes_nothing(bench, event, code):
    before = bench.state()
    with pytest.raises(LabkitError) as err:
        bench.apply(event)
    assert err.value.code == code
    assert bench.state() == before


def test_real_hardware_bench_refuses_simulated_input():
    factory = install_pin_factory(make_pin_factory("sim"))
    kit = Kit(load_wiring(None), factory, "real")  # pretend: a real kit's bench
    b = VirtualBench(kit)
    with pytest.raises(LabkitError) as err:
        b.apply({"device": "button", "action": "press"})
    assert err.value.code == "real_hardware"
    kit.close()
