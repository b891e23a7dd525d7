"""Apply the first-boot file once: name, teacher PIN, room code, language, network, kiosk.

Run as root by `labkit-firstboot.service` before `labkit.service`, only while the file exists
(`ConditionPathExists=`). Every step that fails becomes a note instead of stopping the others:
the kit must come up with whatever could be applied plus defaults. The outcome is saved to
`<data dir>/provision/firstboot.json` (no secrets in it) for `labkit doctor`, and the file is
removed from the boot partition afterwards, even when it was broken — it may hold the PIN and
Wi-Fi passwords in plain text, and "applied once" means a reboot does not apply it again.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from labkit.fsutil import atomic_write_text
from labkit.provision import network
from labkit.provision.config import FirstBootConfig, ParseResult, parse_firstboot
from labkit.provision.messages import N_, Note

log = logging.getLogger(__name__)

REPORT_NAME = "provision/firstboot.json"
DEFAULT_FILE = Path("/boot/firmware/labkit.toml")
KIOSK_UNIT = "labkit-kiosk.service"


def _run(argv: Sequence[str]) -> None:
    subprocess.run(list(argv), check=True, capture_output=True, text=True, timeout=60)


@dataclass
class System:
    """Where first boot writes on the machine; tests point every path into a temp folder."""

    hosts_file: Path = Path("/etc/hosts")
    hostname_file: Path = Path("/etc/hostname")
    env_file: Path = Path("/etc/default/labkit")
    connections_dir: Path = network.SYSTEM_CONNECTIONS
    owner: str | None = "labkit"          # who must own the data dir afterwards
    run: Callable[[Sequence[str]], None] = _run
    has_command: Callable[[str], bool] = field(default=lambda name: shutil.which(name) is not None)


@dataclass
class FirstBootReport:
    applied: list[str]
    problems: list[Note]
    config: dict[str, Any]
    source: str
    recorded_at: float               # wall clock, for people only (may read 1970 on a Pi)

    def to_dict(self) -> dict[str, Any]:
        return {"applied": self.applied, "problems": [p.to_dict() for p in self.problems],
                "config": self.config, "source": self.source, "recorded_at": self.recorded_at}


def report_path(data_dir: Path) -> Path:
    return data_dir / REPORT_NAME


def read_report(data_dir: Path) -> dict[str, Any] | None:
    """The saved first-boot outcome, or None if first boot never ran on this kit."""
    path = report_path(data_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return {"applied": [], "config": {}, "source": str(path), "problems": [Note(
            "file", N_("The first-boot report %(path)s is damaged (%(reason)s)."),
            {"path": str(path), "reason": str(exc)}).to_dict()]}
    return data if isinstance(data, dict) else None


def set_hostname(name: str, system: System) -> None:
    """hostnamectl when systemd runs, plus /etc/hosts so sudo and avahi agree on the name."""
    if system.has_command("hostnamectl"):
        system.run(["hostnamectl", "set-hostname", name])
    else:
        atomic_write_text(system.hostname_file, name + "\n")
    try:
        lines = system.hosts_file.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = ["127.0.0.1\tlocalhost"]
    kept = [line for line in lines if not line.startswith("127.0.1.1")]
    kept.append(f"127.0.1.1\t{name}")
    atomic_write_text(system.hosts_file, "\n".join(kept) + "\n")


def set_country(country: str, system: System) -> None:
    if system.has_command("raspi-config"):
        system.run(["raspi-config", "nonint", "do_wifi_country", country])
    else:
        system.run(["iw", "reg", "set", country])


def write_env(system: System, values: dict[str, str]) -> None:
    """Merge LABKIT_* settings into the environment file labkit.service reads."""
    try:
        lines = system.env_file.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    kept = [line for line in lines if line.split("=", 1)[0].strip() not in values]
    kept += [f"{k}={v}" for k, v in values.items()]
    atomic_write_text(system.env_file, "\n".join(kept) + "\n")


def save_kit_identity(data_dir: Path, config: FirstBootConfig) -> None:
    from labkit.store import Store

    store = Store(data_dir)
    try:
        if config.teacher_pin:
            store.pin.replace(config.teacher_pin, config.teacher_pin)
        rows = [(k, v) for k, v in (("kit_name", config.kit_name),
                                    ("room_pairing_code", config.pairing_code)) if v]
        if rows:
            with store.db.transaction() as tx:
                tx.executemany("INSERT OR REPLACE INTO kit_settings (key, value) VALUES (?, ?)",
                               rows)
    finally:
        store.close()


def chown_tree(path: Path, user: str) -> None:
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return
    for root, dirs, files in os.walk(path):
        for name in [root, *(os.path.join(root, d) for d in dirs),
                     *(os.path.join(root, f) for f in files)]:
            os.lchown(name, entry.pw_uid, entry.pw_gid)


def apply(parsed: ParseResult, data_dir: Path, system: System) -> FirstBootReport:
    """Apply what parsed cleanly; each failing step adds a note and the rest still runs."""
    config = parsed.config
    problems = list(parsed.problems)
    applied: list[str] = []

    def step(name: str, action: Callable[[], object], msgid: str) -> None:
        try:
            action()
        except (OSError, subprocess.SubprocessError, ValueError) as exc:
            detail = getattr(exc, "stderr", None) or str(exc)
            problems.append(Note(name, msgid, {"reason": str(detail).strip()[:200]}))
            log.warning("first boot: %s failed: %s", name, detail)
        else:
            applied.append(name)

    data_dir.mkdir(parents=True, exist_ok=True)
    if config.kit_name:
        step("kit.name", lambda: set_hostname(config.kit_name or "", system),
             N_("The kit's name could not be set (%(reason)s)."))
    if config.teacher_pin or config.kit_name or config.pairing_code:
        step("store", lambda: save_kit_identity(data_dir, config),
             N_("The teacher PIN and room code could not be saved (%(reason)s)."))
    step("kit.language", lambda: write_env(system, {"LABKIT_LANG": config.language}),
         N_("The kit's language could not be saved (%(reason)s)."))
    if config.country:
        step("wifi.country", lambda: set_country(config.country or "", system),
             N_("The Wi-Fi country could not be set (%(reason)s)."))
    if config.wifi or config.hotspot:
        step("network", lambda: network.apply_network(
            wifi=config.wifi, hotspot=config.hotspot, directory=system.connections_dir,
            run=system.run), N_("The network profile was saved but could not be started now "
                                "(%(reason)s); NetworkManager keeps trying."))
    if config.kiosk:
        # --no-block: the kiosk is ordered after this unit, so waiting for it would deadlock
        step("kit.kiosk", lambda: (system.run(["systemctl", "enable", KIOSK_UNIT]),
                                   system.run(["systemctl", "start", "--no-block", KIOSK_UNIT])),
             N_("The kiosk screen could not be switched on (%(reason)s)."))
    return FirstBootReport(applied, problems, config.public(), "", time.time())


CLOUD_INIT_STUBS = {
    "user-data": "#cloud-config\n# Applied by cloud-init on this kit's first boot. labkit replaced the\n"
                 "# original (it may have held passwords); edit a fresh copy for another kit.\n",
    "network-config": "# Applied by cloud-init on this kit's first boot; the Wi-Fi password was\n"
                      "# removed by labkit. The network settings live in NetworkManager now.\n"
                      "network:\n  config: disabled\n",
}


def scrub_cloud_init(boot_dir: Path, *, instance_done: Path = Path(
        "/var/lib/cloud/instance/boot-finished")) -> list[str]:
    """Replace cloud-init's user-data/network-config by stubs once cloud-init has used them.

    cloud-init applies these per instance, so after its first run (boot-finished exists) the
    files are only a copy of the Wi-Fi password and user settings on a FAT partition any
    computer can read. `network: {config: disabled}` keeps cloud-init from touching the
    network it already set up.
    """
    if not instance_done.exists():
        return []
    scrubbed = []
    for name, stub in CLOUD_INIT_STUBS.items():
        path = boot_dir / name
        try:
            if path.read_text(encoding="utf-8", errors="replace") == stub:
                continue
        except FileNotFoundError:
            continue
        atomic_write_text(path, stub)
        scrubbed.append(name)
    return scrubbed


def run_firstboot(source: Path, data_dir: Path, system: System | None = None,
                  *, remove: bool = True) -> FirstBootReport:
    """Parse, apply, save the report, remove the file. Never raises for a bad file."""
    system = system or System()
    parsed = parse_firstboot(source)
    report = apply(parsed, data_dir, system)
    report.source = str(source)
    target = report_path(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(target, json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    if system.owner and os.geteuid() == 0:
        chown_tree(data_dir, system.owner)
    if remove:
        try:
            source.unlink()
        except FileNotFoundError:
            pass
    return report
