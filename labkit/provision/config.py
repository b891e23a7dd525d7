"""The first-boot file `labkit.toml`: parsed into settings that are always usable.

An IT teacher edits this file on the SD card's boot partition with any text editor, so mistakes
are expected: a typo in a key, a PIN that is too short, a file saved in the wrong encoding. The
kit must still boot. `parse_firstboot` therefore never raises: every bad or unknown value is
replaced by its default and described by a `Note` in `problems`, which the first-boot unit saves
and `labkit doctor` reads back. Secrets (PIN, Wi-Fi passwords) are never copied into a note.

    [kit]
    name = "kit-07"              # host name: the page is then http://kit-07.local:8080
    language = "zh_CN"           # zh_CN | en
    kiosk = false                # a screen on the kit shows the kit's page full screen

    [room]
    pairing_code = "3A-2026"     # kits with the same code form one room

    [teacher]
    pin = "482913"               # 6 to 12 digits

    [wifi]                       # the school network (leave out to keep the image's)
    country = "CN"
    ssid = "School-WiFi"
    password = "..."

    [hotspot]                    # or: the kit makes its own small network
    enabled = false
    ssid = "labkit-07"
    password = "at least 8 characters"
    band = "bg"                  # bg (2.4 GHz) | a (5 GHz)
    channel = 6
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from labkit.provision.messages import N_, Note

TEACHER_PIN = re.compile(r"[0-9]{6,12}")
HOSTNAME = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
PAIRING_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{3,31}")
COUNTRY = re.compile(r"[A-Z]{2}")
LANGUAGES = ("zh_CN", "en")
BANDS = {"bg": range(1, 14), "a": range(36, 166)}
MAX_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class WifiClient:
    ssid: str
    password: str = ""            # empty: an open network


@dataclass(frozen=True)
class Hotspot:
    ssid: str
    password: str
    band: str = "bg"
    channel: int = 6


@dataclass(frozen=True)
class FirstBootConfig:
    """What first boot applies. None means "leave as the image has it"."""

    kit_name: str | None = None
    language: str = "zh_CN"
    kiosk: bool = False
    pairing_code: str | None = None
    teacher_pin: str | None = None
    country: str | None = None
    wifi: WifiClient | None = None
    hotspot: Hotspot | None = None

    def public(self) -> dict[str, Any]:
        """Everything except the secrets, for the report and for logs."""
        data = asdict(self)
        data["teacher_pin"] = "set" if self.teacher_pin else None
        for key in ("wifi", "hotspot"):
            if data[key] is not None:
                data[key]["password"] = "set" if data[key]["password"] else ""
        return data


@dataclass
class ParseResult:
    config: FirstBootConfig
    problems: list[Note] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "kit": ("name", "language", "kiosk"),
    "room": ("pairing_code",),
    "teacher": ("pin",),
    "wifi": ("country", "ssid", "password"),
    "hotspot": ("enabled", "ssid", "password", "band", "channel"),
}


class _Reader:
    """Pulls typed values out of the TOML tables, noting each problem once."""

    def __init__(self, data: dict[str, Any], problems: list[Note]) -> None:
        self.data = data
        self.problems = problems

    def table(self, name: str) -> dict[str, Any]:
        value = self.data.get(name, {})
        if isinstance(value, dict):
            return value
        self.problems.append(Note(name, N_("[%(table)s] must be a table of settings; it was "
                                           "ignored."), {"table": name}))
        return {}

    def text(self, table: str, key: str, check: Callable[[str], bool], msgid: str,
             *, secret: bool = False) -> str | None:
        value = self.table(table).get(key)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and table == "teacher":
            value = str(value)        # pin = 482913 written without quotes
        if isinstance(value, str):
            value = value.strip()
            if check(value):
                return value
        params = {"key": f"{table}.{key}"}
        if not secret:
            params["value"] = repr(value)[:80]
        self.problems.append(Note(f"{table}.{key}", msgid, params))
        return None

    def flag(self, table: str, key: str) -> bool | None:
        value = self.table(table).get(key)
        if value is None or isinstance(value, bool):
            return value
        self.problems.append(Note(f"{table}.{key}", N_("%(key)s must be true or false (it was "
                                                       "%(value)s); false is used."),
                                  {"key": f"{table}.{key}", "value": repr(value)[:40]}))
        return None


def _ssid_ok(value: str) -> bool:
    return 1 <= len(value.encode("utf-8")) <= 32 and _printable(value)


def _printable(value: str) -> bool:
    return all(ch.isprintable() for ch in value)


def _wpa_password_ok(value: str) -> bool:
    if re.fullmatch(r"[0-9A-Fa-f]{64}", value):
        return True
    return 8 <= len(value) <= 63 and all(32 <= ord(ch) < 127 for ch in value)


def parse_firstboot_text(text: str) -> ParseResult:
    """Parse the file's text; bad parts become defaults plus a note each."""
    problems: list[Note] = []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(Note("file", N_("labkit.toml is not valid TOML (%(reason)s); the kit "
                                        "started with its default settings."),
                             {"reason": str(exc)}))
        return ParseResult(FirstBootConfig(), problems)
    for table, value in data.items():
        if table not in KNOWN_KEYS:
            problems.append(Note(table, N_("labkit.toml has an unknown section [%(table)s]; it "
                                           "was ignored."), {"table": table}))
            continue
        if isinstance(value, dict):
            for key in value:
                if key not in KNOWN_KEYS[table]:
                    problems.append(Note(f"{table}.{key}", N_(
                        "labkit.toml has an unknown setting %(key)s; it was ignored (known in "
                        "[%(table)s]: %(known)s)."), {"key": f"{table}.{key}", "table": table,
                                                      "known": ", ".join(KNOWN_KEYS[table])}))
    r = _Reader(data, problems)
    kit_name = r.text("kit", "name", lambda v: bool(HOSTNAME.fullmatch(v)), N_(
        "%(key)s must be 1 to 63 small letters, digits or '-' (it was %(value)s); the kit "
        "keeps its old name."))
    language = r.text("kit", "language", lambda v: v in LANGUAGES, N_(
        "%(key)s must be zh_CN or en (it was %(value)s); zh_CN is used.")) or "zh_CN"
    kiosk = bool(r.flag("kit", "kiosk"))
    pairing = r.text("room", "pairing_code", lambda v: bool(PAIRING_CODE.fullmatch(v)), N_(
        "%(key)s must be 4 to 32 letters, digits or '-' (it was %(value)s); the kit is not "
        "paired with a room."))
    pin = r.text("teacher", "pin", lambda v: bool(TEACHER_PIN.fullmatch(v)), N_(
        "The teacher PIN in labkit.toml must be 6 to 12 digits; no PIN was set, so the "
        "teacher sets one on the kit's page at first sign-in."), secret=True)
    country = r.text("wifi", "country", lambda v: bool(COUNTRY.fullmatch(v)), N_(
        "%(key)s must be a two-letter country code such as CN (it was %(value)s); the "
        "image's setting is kept."))
    wifi = _wifi(r)
    hotspot = _hotspot(r)
    if wifi is not None and hotspot is not None:
        problems.append(Note("hotspot", N_("Both [wifi] and an enabled [hotspot] are set; the "
                                           "kit's one radio makes the hotspot and does not join "
                                           "the school Wi-Fi.")))
        wifi = None
    return ParseResult(FirstBootConfig(kit_name=kit_name, language=language, kiosk=kiosk,
                                       pairing_code=pairing, teacher_pin=pin, country=country,
                                       wifi=wifi, hotspot=hotspot), problems)


def _wifi(r: _Reader) -> WifiClient | None:
    if not r.table("wifi"):
        return None
    ssid = r.text("wifi", "ssid", _ssid_ok, N_(
        "%(key)s must be a network name of 1 to 32 bytes (it was %(value)s); the kit does not "
        "join a Wi-Fi network."))
    password = r.table("wifi").get("password", "")
    if password != "" and r.text("wifi", "password", _wpa_password_ok, N_(
            "%(key)s must be 8 to 63 plain characters (or 64 hex digits); the kit does not "
            "join the Wi-Fi network."), secret=True) is None:
        return None
    return WifiClient(ssid, str(password).strip()) if ssid else None


def _hotspot(r: _Reader) -> Hotspot | None:
    if not r.flag("hotspot", "enabled"):
        return None
    ssid = r.text("hotspot", "ssid", _ssid_ok, N_(
        "%(key)s must be a network name of 1 to 32 bytes (it was %(value)s); the hotspot is "
        "off."))
    password = r.text("hotspot", "password", _wpa_password_ok, N_(
        "The hotspot password (%(key)s) must be 8 to 63 plain characters; the hotspot is off, "
        "so that the kit never makes an open network."), secret=True)
    if "password" not in r.table("hotspot"):
        r.problems.append(Note("hotspot.password", N_(
            "The hotspot needs a password (hotspot.password, 8 to 63 characters); the hotspot "
            "is off.")))
    band = r.text("hotspot", "band", lambda v: v in BANDS, N_(
        "%(key)s must be bg (2.4 GHz) or a (5 GHz) (it was %(value)s); bg is used.")) or "bg"
    channel_value = r.table("hotspot").get("channel")
    channel = 6 if band == "bg" else 36
    if channel_value is not None:
        if (isinstance(channel_value, int) and not isinstance(channel_value, bool)
                and channel_value in BANDS[band]):
            channel = channel_value
        else:
            r.problems.append(Note("hotspot.channel", N_(
                "hotspot.channel %(value)s is not a channel of band %(band)s; channel "
                "%(channel)s is used."), {"value": repr(channel_value)[:20], "band": band,
                                          "channel": channel}))
    if not ssid or not password:
        return None
    return Hotspot(ssid, password, band, channel)


def parse_firstboot(path: Path) -> ParseResult:
    """Read and parse the file; an unreadable or oversized file is a note, not a crash."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return ParseResult(FirstBootConfig(), [Note("file", N_(
            "labkit.toml could not be read (%(reason)s); the kit started with its default "
            "settings."), {"reason": exc.strerror or str(exc)})])
    if len(raw) > MAX_FILE_BYTES:
        return ParseResult(FirstBootConfig(), [Note("file", N_(
            "labkit.toml is %(kb)s KB, far more than a settings file; it was ignored."),
            {"kb": len(raw) // 1024})])
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]             # Windows Notepad's UTF-8 signature
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return ParseResult(FirstBootConfig(), [Note("file", N_(
            "labkit.toml is not saved as UTF-8 text; the kit started with its default "
            "settings. Save it as UTF-8 and put it on the SD card again."))])
    return parse_firstboot_text(text)
