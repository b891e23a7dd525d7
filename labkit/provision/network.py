"""NetworkManager profiles for the school Wi-Fi and for the kit's own hotspot.

Profiles are written as NetworkManager keyfiles (`/etc/NetworkManager/system-connections/
<id>.nmconnection`, root-only, mode 600) rather than built from `nmcli connection add` options:
a network name or password then never appears on a command line (where `ps` shows it and where
a name starting with '-' could be read as an option). `nmcli connection reload` and
`nmcli connection up id <id>` — fixed words only — make NetworkManager use them.

Hotspot limits, measured by others and documented in images/README.md: the Pi's built-in radio
serves about 5–10 phones or laptops well; for a whole class use a standalone access point.
`ipv4.method=shared` makes NetworkManager run its own DHCP/DNS (dnsmasq-base) on 10.42.0.1/24.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable, Sequence

from labkit.provision.config import Hotspot, WifiClient

SYSTEM_CONNECTIONS = Path("/etc/NetworkManager/system-connections")
WIFI_ID = "labkit-wifi"
HOTSPOT_ID = "labkit-hotspot"
HOTSPOT_ADDRESS = "10.42.0.1/24"

Runner = Callable[[Sequence[str]], None]


def keyfile_value(value: str) -> str:
    """Escape a string for a GKeyFile value (backslash, line breaks, tabs, leading space)."""
    out = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    out = out.replace("\t", "\\t")
    if out.startswith(" "):
        out = "\\s" + out[1:]
    return out


def _render(sections: list[tuple[str, list[tuple[str, str]]]]) -> str:
    lines: list[str] = []
    for name, items in sections:
        lines.append(f"[{name}]")
        lines += [f"{k}={keyfile_value(v)}" for k, v in items]
        lines.append("")
    return "\n".join(lines)


def wifi_keyfile(wifi: WifiClient, interface: str = "wlan0") -> str:
    security = ([("key-mgmt", "wpa-psk"), ("psk", wifi.password)] if wifi.password else [])
    sections = [
        ("connection", [("id", WIFI_ID), ("type", "wifi"), ("interface-name", interface),
                        ("autoconnect", "true"), ("autoconnect-priority", "10")]),
        ("wifi", [("mode", "infrastructure"), ("ssid", wifi.ssid)]),
    ]
    if security:
        sections.append(("wifi-security", security))
    sections += [("ipv4", [("method", "auto")]), ("ipv6", [("method", "auto")])]
    return _render(sections)


def hotspot_keyfile(hotspot: Hotspot, interface: str = "wlan0") -> str:
    return _render([
        ("connection", [("id", HOTSPOT_ID), ("type", "wifi"), ("interface-name", interface),
                        ("autoconnect", "true"), ("autoconnect-priority", "20")]),
        ("wifi", [("mode", "ap"), ("ssid", hotspot.ssid), ("band", hotspot.band),
                  ("channel", str(hotspot.channel))]),
        ("wifi-security", [("key-mgmt", "wpa-psk"), ("psk", hotspot.password),
                           ("proto", "rsn"), ("pairwise", "ccmp"), ("group", "ccmp")]),
        ("ipv4", [("method", "shared"), ("address1", HOTSPOT_ADDRESS)]),
        ("ipv6", [("method", "disabled")]),
    ])


def write_profile(directory: Path, conn_id: str, text: str) -> Path:
    """Write a keyfile atomically with mode 600 (NetworkManager ignores group/world-readable)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{conn_id}.nmconnection"
    tmp = target.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)
    return target


def run_command(argv: Sequence[str]) -> None:
    subprocess.run(list(argv), check=True, capture_output=True, text=True, timeout=60)


def apply_network(*, wifi: WifiClient | None, hotspot: Hotspot | None,
                  directory: Path = SYSTEM_CONNECTIONS, run: Runner = run_command,
                  interface: str = "wlan0") -> list[str]:
    """Write the profile(s), reload NetworkManager and bring the chosen one up.

    Returns the connection ids written. A hotspot replaces a client profile of ours (one radio).
    """
    written: list[str] = []
    if hotspot is not None:
        write_profile(directory, HOTSPOT_ID, hotspot_keyfile(hotspot, interface))
        (directory / f"{WIFI_ID}.nmconnection").unlink(missing_ok=True)
        written.append(HOTSPOT_ID)
    elif wifi is not None:
        write_profile(directory, WIFI_ID, wifi_keyfile(wifi, interface))
        written.append(WIFI_ID)
    if written:
        run(["nmcli", "connection", "reload"])
        run(["nmcli", "connection", "up", "id", written[-1]])
    return written
