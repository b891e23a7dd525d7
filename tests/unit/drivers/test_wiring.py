from pathlib import Path

import pytest

from labkit.drivers.wiring import load_wiring
from labkit.errors import LabkitError


def test_standard_wiring_matches_the_design():
    w = load_wiring(None)
    assert w["led"].pins == {"pin": 17}
    assert w["rgb"].pins == {"red": 5, "green": 6, "blue": 13}
    assert w["distance"].pins == {"trigger": 23, "echo": 24}
    assert w["temperature"].options["channel"] == 2
    assert set(w.names("input")) == {"button", "motion", "distance"}


def test_data_dir_wiring_wins(tmp_path: Path):
    f = tmp_path / "wiring.yaml"
    f.write_text("devices:\n  lamp: {type: LED, pin: 21}\n")
    w = load_wiring(f)
    assert list(w.devices) == ["lamp"] and w.source == f


@pytest.mark.parametrize("text, message", [
    ("devices:\n  a: {type: LED, pin: 17}\n  b: {type: Buzzer, pin: 17}\n", "pin 17 is used twice"),
    ("devices:\n  a: {type: Laser, pin: 17}\n", "unknown type 'Laser'"),
    ("devices:\n  a: {type: LED, pin: 99}\n", "is not a GPIO pin"),
    ("devices:\n  a: {type: LED}\n", "is not a GPIO pin"),
    ("devices:\n  a: {type: LED, pin: 17, colour: red}\n", "unknown setting"),
    ("devices:\n  a: {type: MCP3008, channel: 1}\n  b: {type: MCP3008, channel: 1}\n",
     "channel 1 is used twice"),
    ("devices:\n  a: {type: MCP3008, channel: 0}\n  b: {type: LED, pin: 10}\n", "SPI pin"),
    ("devices: [1, 2]\n", "'devices:' mapping"),
    ("devices:\n  a: {type: LED, pin: 17\n", "not valid YAML"),
])
def test_malformed_wiring_is_one_clear_error(tmp_path: Path, text: str, message: str):
    f = tmp_path / "wiring.yaml"
    f.write_text(text)
    with pytest.raises(LabkitError) as err:
        load_wiring(f)
    assert message in err.value.message
    assert str(f) in err.value.message and err.value.fix
