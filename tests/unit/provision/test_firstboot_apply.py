"""First boot applies labkit.toml once, records what went wrong, removes the file."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path
from typing import Sequence

import pytest

from labkit.config import Settings
from labkit.provision import checks, network
from labkit.provision.config import Hotspot, WifiClient
from labkit.provision.firstboot import System, read_report, run_firstboot
from labkit.store import Store


class FakeSystem:
    def __init__(self, root: Path, fail: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.calls: list[list[str]] = []
        self.fail = fail
        (root / "etc").mkdir(parents=True, exist_ok=True)
        (root / "etc" / "hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n")
        self.system = System(hosts_file=root / "etc/hosts", hostname_file=root / "etc/hostname",
                             env_file=root / "etc/default/labkit",
                             connections_dir=root / "etc/NetworkManager/system-connections",
                             owner=None, run=self.run, has_command=lambda name: True)

    def run(self, argv: Sequence[str]) -> None:
        self.calls.append(list(argv))
        if argv[0] in self.fail:
            raise subprocess.CalledProcessError(1, list(argv), stderr=f"{argv[0]} broke")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_is_applied_once_and_removed(tmp_path: Path, data_dir: Path) -> None:
    fake = FakeSystem(tmp_path / "root")
    src = write(tmp_path / "labkit.toml", """
[kit]
name = "kit-07"
language = "en"
kiosk = true
[room]
pairing_code = "3A-2026"
[teacher]
pin = "482913"
[hotspot]
enabled = true
ssid = "-kit 07"
password = "abc;def#ghi"
""")
    report = run_firstboot(src, data_dir, fake.system)
    assert not src.exists()
    assert report.problems == []
    assert set(report.applied) == {"kit.name", "store", "kit.language", "network", "kit.kiosk"}
    assert ["hostnamectl", "set-hostname", "kit-07"] in fake.calls
    assert ["systemctl", "enable", "labkit-kiosk.service"] in fake.calls
    assert ["systemctl", "start", "--no-block", "labkit-kiosk.service"] in fake.calls
    assert ["nmcli", "connection", "up", "id", "labkit-hotspot"] in fake.calls
    # the SSID and password reach NetworkManager only through the root-only keyfile
    assert not any("-kit 07" in arg or "abc;def" in arg for call in fake.calls for arg in call)
    keyfile = fake.system.connections_dir / "labkit-hotspot.nmconnection"
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    text = keyfile.read_text()
    assert "ssid=-kit 07" in text and "psk=abc;def#ghi" in text and "mode=ap" in text
    assert "127.0.1.1\tkit-07" in fake.system.hosts_file.read_text()
    assert "raspberrypi" not in fake.system.hosts_file.read_text()
    assert "LABKIT_LANG=en" in fake.system.env_file.read_text()
    store = Store(data_dir)
    try:
        assert store.pin.verify("482913")
        rows = dict(store.db.query("SELECT key, value FROM kit_settings "
                                   "WHERE key IN ('kit_name', 'room_pairing_code')"))
        assert rows == {"kit_name": "kit-07", "room_pairing_code": "3A-2026"}
    finally:
        store.close()
    saved = json.dumps(read_report(data_dir))
    assert "482913" not in saved and "abc;def" not in saved
    finding = checks.check_firstboot(Settings(data_dir=data_dir), pending=src)
    assert finding.ok and "kit.name" in finding.detail


def test_bad_values_boot_with_defaults_and_doctor_says_why(tmp_path: Path,
                                                           data_dir: Path) -> None:
    fake = FakeSystem(tmp_path / "root")
    src = write(tmp_path / "labkit.toml", '[kit]\nname = "kit-2"\n[teacher]\npin = "1234"\n')
    report = run_firstboot(src, data_dir, fake.system)
    assert not src.exists()                     # removed even though it had a problem
    assert "kit.name" in report.applied
    store = Store(data_dir)
    try:
        assert not store.pin.is_set             # the teacher sets it on the page instead
    finally:
        store.close()
    finding = checks.check_firstboot(Settings(data_dir=data_dir), pending=src)
    assert not finding.ok and not finding.required
    assert "6 to 12 digits" in finding.detail and "1234" not in finding.detail
    assert finding.data["problems"][0]["key"] == "teacher.pin"
    assert finding.fix


def test_broken_toml_still_writes_a_report_and_removes_the_file(tmp_path: Path,
                                                                data_dir: Path) -> None:
    fake = FakeSystem(tmp_path / "root")
    src = write(tmp_path / "labkit.toml", "[kit\n")
    report = run_firstboot(src, data_dir, fake.system)
    assert not src.exists() and report.applied == ["kit.language"]
    assert "LABKIT_LANG=zh_CN" in fake.system.env_file.read_text()
    assert "not valid TOML" in checks.check_firstboot(Settings(data_dir=data_dir),
                                                      pending=src).detail


def test_a_failing_step_does_not_stop_the_others(tmp_path: Path, data_dir: Path) -> None:
    fake = FakeSystem(tmp_path / "root", fail={"nmcli"})
    src = write(tmp_path / "labkit.toml", '[wifi]\ncountry = "CN"\nssid = "School"\n'
                                          'password = "12345678"\n[kit]\nkiosk = true\n')
    report = run_firstboot(src, data_dir, fake.system)
    assert "kit.kiosk" in report.applied and "wifi.country" in report.applied
    assert ["raspi-config", "nonint", "do_wifi_country", "CN"] in fake.calls
    (problem,) = report.problems
    assert problem.key == "network" and "nmcli broke" in problem.text
    # the profile is on disk, so NetworkManager connects once the network is in range
    assert (fake.system.connections_dir / "labkit-wifi.nmconnection").exists()


def test_doctor_when_no_file_was_used_and_when_one_waits(tmp_path: Path,
                                                         data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir)
    assert checks.check_firstboot(settings, pending=tmp_path / "none.toml").ok
    waiting = write(tmp_path / "labkit.toml", "")
    finding = checks.check_firstboot(settings, pending=waiting)
    assert not finding.ok and "waiting" in finding.detail


@pytest.mark.parametrize("value,escaped", [("a\\b", "a\\\\b"), (" lead", "\\slead"),
                                           ("x\ny", "x\\ny"), ("tab\tz", "tab\\tz")])
def test_keyfile_escaping(value: str, escaped: str) -> None:
    assert network.keyfile_value(value) == escaped


def test_hotspot_profile_replaces_our_wifi_profile(tmp_path: Path) -> None:
    calls: list[list[str]] = []
    folder = tmp_path / "nm"
    network.apply_network(wifi=WifiClient("School", ""), hotspot=None, directory=folder,
                          run=lambda argv: calls.append(list(argv)))
    wifi = (folder / "labkit-wifi.nmconnection").read_text()
    assert "wifi-security" not in wifi              # an open school network: no key
    network.apply_network(wifi=None, hotspot=Hotspot("kit", "abcdefgh"), directory=folder,
                          run=lambda argv: calls.append(list(argv)))
    assert sorted(p.name for p in folder.iterdir()) == ["labkit-hotspot.nmconnection"]
    text = (folder / "labkit-hotspot.nmconnection").read_text()
    assert "method=shared" in text and "address1=10.42.0.1/24" in text


def test_cloud_init_files_are_scrubbed_only_after_cloud_init_ran(tmp_path: Path) -> None:
    from labkit.provision.firstboot import CLOUD_INIT_STUBS, scrub_cloud_init

    boot = tmp_path / "boot"
    boot.mkdir()
    (boot / "network-config").write_text("wifis:\n  wlan0:\n    access-points:\n"
                                         "      School: {password: 'secret123'}\n")
    (boot / "user-data").write_text("#cloud-config\nhostname: kit-07\n")
    done = tmp_path / "boot-finished"
    assert scrub_cloud_init(boot, instance_done=done) == []        # cloud-init not run yet
    assert "secret123" in (boot / "network-config").read_text()
    done.write_text("")
    assert sorted(scrub_cloud_init(boot, instance_done=done)) == ["network-config", "user-data"]
    assert (boot / "network-config").read_text() == CLOUD_INIT_STUBS["network-config"]
    assert scrub_cloud_init(boot, instance_done=done) == []        # once
