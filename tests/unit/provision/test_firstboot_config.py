"""labkit.toml: good files apply, bad values fall back to defaults with a clear note."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.provision.config import FirstBootConfig, parse_firstboot, parse_firstboot_text

GOOD = """
[kit]
name = "kit-07"
language = "en"
kiosk = true

[room]
pairing_code = "3A-2026"

[teacher]
pin = "482913"

[wifi]
country = "CN"
ssid = "School WiFi"
password = "correct horse"
"""


def test_good_file_gives_every_setting() -> None:
    result = parse_firstboot_text(GOOD)
    assert result.problems == []
    c = result.config
    assert (c.kit_name, c.language, c.kiosk, c.pairing_code, c.teacher_pin, c.country) == (
        "kit-07", "en", True, "3A-2026", "482913", "CN")
    assert c.wifi is not None and (c.wifi.ssid, c.wifi.password) == ("School WiFi",
                                                                     "correct horse")
    assert c.hotspot is None


def test_empty_file_is_all_defaults_and_no_problem() -> None:
    result = parse_firstboot_text("")
    assert result.ok and result.config == FirstBootConfig()


def test_missing_keys_keep_defaults() -> None:
    result = parse_firstboot_text('[kit]\nname = "kit-3"\n[wifi]\ncountry = "CN"\n')
    assert result.ok
    c = result.config
    assert c.kit_name == "kit-3" and c.language == "zh_CN" and c.kiosk is False
    assert c.teacher_pin is None and c.pairing_code is None and c.wifi is None
    assert c.country == "CN"


def test_bad_toml_is_one_clear_problem_and_defaults() -> None:
    result = parse_firstboot_text('[kit\nname = "x"')
    assert result.config == FirstBootConfig()
    assert len(result.problems) == 1
    assert "not valid TOML" in result.problems[0].text
    assert "line 1" in result.problems[0].text


@pytest.mark.parametrize("pin", ["1234", "12345", "12a456", "1234567890123", ""])
def test_teacher_pin_too_short_or_not_digits_is_refused_without_echoing_it(pin: str) -> None:
    result = parse_firstboot_text(f'[teacher]\npin = "{pin}"\n[kit]\nname = "kit-1"\n')
    assert result.config.teacher_pin is None
    assert result.config.kit_name == "kit-1"          # the rest still applies
    (problem,) = result.problems
    assert problem.key == "teacher.pin"
    assert "6 to 12 digits" in problem.text
    if pin:
        assert pin not in problem.text and pin not in str(problem.params)


def test_pin_written_as_a_number_is_accepted() -> None:
    assert parse_firstboot_text("[teacher]\npin = 482913\n").config.teacher_pin == "482913"


@pytest.mark.parametrize("name", ["Kit_7", "-kit", "kit-", "a" * 64, "kit 7", "机房1"])
def test_bad_hostname_keeps_the_old_name(name: str) -> None:
    result = parse_firstboot_text(f'[kit]\nname = "{name}"\n')
    assert result.config.kit_name is None
    assert result.problems[0].key == "kit.name"
    assert "small letters" in result.problems[0].text


def test_unknown_keys_and_sections_are_reported() -> None:
    result = parse_firstboot_text('[kit]\nnmae = "x"\n[wlan]\nssid = "y"\n')
    texts = " ".join(p.text for p in result.problems)
    assert "kit.nmae" in texts and "[wlan]" in texts
    assert result.config == FirstBootConfig()


def test_wrong_types_fall_back() -> None:
    result = parse_firstboot_text('[kit]\nkiosk = "yes"\nlanguage = "fr"\n')
    assert result.config.kiosk is False and result.config.language == "zh_CN"
    assert {p.key for p in result.problems} == {"kit.kiosk", "kit.language"}


def test_short_wifi_password_means_no_wifi_and_no_secret_in_the_note() -> None:
    result = parse_firstboot_text('[wifi]\nssid = "S"\npassword = "short"\n')
    assert result.config.wifi is None
    assert "short" not in str([p.to_dict() for p in result.problems])


def test_hotspot_needs_a_real_password_and_wins_over_wifi() -> None:
    open_hotspot = parse_firstboot_text('[hotspot]\nenabled = true\nssid = "kit"\n')
    assert open_hotspot.config.hotspot is None
    assert "needs a password" in open_hotspot.problems[0].text
    both = parse_firstboot_text('[wifi]\nssid = "School"\npassword = "12345678"\n'
                                '[hotspot]\nenabled = true\nssid = "kit-07"\n'
                                'password = "abcdefgh"\nband = "a"\nchannel = 6\n')
    hotspot = both.config.hotspot
    assert hotspot is not None and hotspot.band == "a" and hotspot.channel == 36
    assert both.config.wifi is None
    assert {p.key for p in both.problems} == {"hotspot.channel", "hotspot"}


def test_file_encodings_and_size(tmp_path: Path) -> None:
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + '[kit]\nname = "kit-9"\n'.encode())
    assert parse_firstboot(bom).config.kit_name == "kit-9"
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes('[room]\npairing_code = "三班"\n'.encode("gbk"))
    (problem,) = parse_firstboot(gbk).problems
    assert "UTF-8" in problem.text
    missing = parse_firstboot(tmp_path / "nope.toml")
    assert missing.config == FirstBootConfig() and "could not be read" in missing.problems[0].text
    huge = tmp_path / "huge.toml"
    huge.write_bytes(b"#" * (65 * 1024))
    assert "ignored" in parse_firstboot(huge).problems[0].text


def test_public_view_hides_secrets() -> None:
    public = parse_firstboot_text(GOOD).config.public()
    assert public["teacher_pin"] == "set" and public["wifi"]["password"] == "set"
    assert "482913" not in str(public) and "correct horse" not in str(public)
