"""Kits find each other on the classroom network with zeroconf (mDNS/DNS-SD, `_labkit._tcp`).

Each kit announces its name, kit id, labkit version, installed lab packs, port and live
status (lab running, camera, models, free disk: labkit/fleet/kitstatus.py) in the service's
TXT record, re-announced when the status changes; a lead kit browses and lists what it
hears. Android tablets often do not resolve `.local` names, so a found kit is listed with
its IP addresses too, and networks that drop multicast are served by adding a kit by
address (the pairing works the same).

A kit listening only on 127.0.0.1 announces only on loopback (tests, a kit not yet on the
network): no packet leaves the machine.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from labkit.fleet.kitstatus import KitStatus, from_txt

log = logging.getLogger(__name__)

SERVICE = "_labkit._tcp.local."
TXT_MAX = 200          # bytes per TXT value (DNS allows 255)


@dataclass
class FoundKit:
    """A kit heard on the network (from its TXT record; not yet proof of anything)."""
    kit_id: str
    name: str
    version: str
    port: int
    addresses: list[str]
    host: str = ""
    packs: str = ""
    labs: int = 0
    status: KitStatus | None = None
    server: str = ""             # its .local name, for tablets that resolve them
    seen_at: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return {"kit_id": self.kit_id, "name": self.name, "version": self.version,
                "port": self.port, "addresses": self.addresses, "host": self.host,
                "packs": self.packs, "labs": self.labs, "server": self.server.rstrip("."),
                "status": self.status.as_dict() if self.status is not None else None,
                "seen_at": self.seen_at}


def interfaces_for(host: str) -> tuple[list[str] | None, bool]:
    """(zeroconf interfaces, loopback only?) for a kit serving on `host`."""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return ["127.0.0.1"], True
    except ValueError:
        if host == "localhost":
            return ["127.0.0.1"], True
    return None, False


def _txt(value: object) -> str:
    text = str(value)
    raw = text.encode("utf-8")[:TXT_MAX]
    return raw.decode("utf-8", errors="ignore")


def txt_record(*, kit_id: str, name: str, version: str, packs: dict[str, str],
               labs: int, status: KitStatus | None = None) -> dict[str, str]:
    listed = ",".join(f"{pid}={ver}" for pid, ver in sorted(packs.items()))
    record = {"id": kit_id, "name": _txt(name), "v": version, "packs": _txt(listed),
              "labs": str(labs)}
    if status is not None:
        record.update(status.txt())
    return record


def _own_addresses(loopback: bool) -> list[str]:
    if loopback:
        return ["127.0.0.1"]
    import ifaddr

    out = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ipaddress.ip_address(ip.ip).is_loopback:
                out.append(ip.ip)
    return out or ["127.0.0.1"]


def _own_loop_zeroconf(interfaces: list[str] | None) -> Any:
    """A Zeroconf instance running on its own event-loop thread.

    Zeroconf adopts the event loop running in the thread that creates it. A thread whose loop
    is only nominally running (an ASGI server's, or a greenlet-driven one such as Playwright's
    sync API) would then never let it read a packet, so it is always created on a fresh thread
    with no loop: zeroconf starts its own.
    """
    from zeroconf import InterfaceChoice, IPVersion, Zeroconf

    made: list[Any] = []
    failed: list[BaseException] = []

    def build() -> None:
        try:
            made.append(Zeroconf(interfaces=interfaces or InterfaceChoice.All,
                                 ip_version=IPVersion.V4Only))
        except BaseException as exc:       # re-raised in the caller's thread
            failed.append(exc)

    thread = threading.Thread(target=build, name="labkit-zeroconf-start", daemon=True)
    thread.start()
    thread.join()
    if failed:
        raise failed[0]
    return made[0]


def _close_off_loop(close: Callable[[], None]) -> None:
    """Run a blocking zeroconf call (unregister, close) where no event loop is running, so
    zeroconf does not skip the goodbye packets."""
    thread = threading.Thread(target=close, name="labkit-zeroconf-close", daemon=True)
    thread.start()
    thread.join(timeout=10)


class Announcer:
    """Announce this kit (register in a background thread: probing takes ~2 s)."""

    def __init__(self, *, host: str, port: int,
                 properties: dict[str, str] | Callable[[], dict[str, str]]) -> None:
        self.host, self.port = host, port
        self._properties = properties
        self.properties: dict[str, str] = {}
        self._zc: Any = None
        self._info: Any = None
        self._thread: threading.Thread | None = None
        self.registered = threading.Event()

    def start(self) -> "Announcer":
        self._thread = threading.Thread(target=self._register, name="labkit-announce",
                                        daemon=True)
        self._thread.start()
        return self

    def _register(self) -> None:
        from zeroconf import ServiceInfo

        interfaces, loopback = interfaces_for(self.host)
        try:
            self.properties = dict(self._properties() if callable(self._properties)
                                   else self._properties)
        except Exception:      # a broken lab folder must not stop the kit: no announcement
            log.exception("cannot build the zeroconf announcement")
            return
        kit_id = self.properties.get("id", "kit")
        label = f"{self.properties.get('name', 'labkit')[:30]}-{kit_id[:8]}"
        try:
            self._zc = _own_loop_zeroconf(interfaces)
            self._info = ServiceInfo(
                SERVICE, f"{label}.{SERVICE}",
                addresses=[socket.inet_aton(a) for a in _own_addresses(loopback)],
                port=self.port, properties=self.properties,
                server=f"labkit-{kit_id[:8]}.local.")
            self._zc.register_service(self._info, allow_name_change=True)
            self.registered.set()
        except (OSError, RuntimeError, ValueError) as exc:   # no multicast: add by address
            log.warning("zeroconf announce failed (%s); other kits can add this one by address",
                        exc)

    def update(self, changes: dict[str, str]) -> bool:
        """Announce the TXT record with `changes` applied (a new status); False if the kit is
        not announced (no multicast, or closed). Blocking: call it off the event loop."""
        from zeroconf import ServiceInfo

        zc, info = self._zc, self._info
        if zc is None or info is None or not self.registered.is_set():
            return False
        properties = {**self.properties, **changes}
        new = ServiceInfo(info.type, info.name, addresses=info.addresses, port=info.port,
                          properties=properties, server=info.server)
        try:
            zc.update_service(new)
        except (OSError, RuntimeError, ValueError) as exc:
            log.warning("zeroconf update failed (%s)", exc)
            return False
        self.properties, self._info = properties, new
        return True

    def close(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=5)
        zc, info, registered = self._zc, self._info, self.registered.is_set()
        self._zc = None
        if zc is not None:
            def goodbye() -> None:
                try:
                    if info is not None and registered:
                        zc.unregister_service(info)
                finally:
                    zc.close()
            _close_off_loop(goodbye)


class Browser:
    """Listen for announced kits; `found()` is what has been heard so far."""

    def __init__(self, *, host: str, own_kit_id: str = "") -> None:
        self.host, self.own_kit_id = host, own_kit_id
        self._found: dict[str, FoundKit] = {}
        self._lock = threading.Lock()
        self._zc: Any = None
        self._browser: Any = None

    def start(self) -> "Browser":
        from zeroconf import ServiceBrowser

        interfaces, _ = interfaces_for(self.host)
        try:
            self._zc = _own_loop_zeroconf(interfaces)
            self._browser = ServiceBrowser(self._zc, SERVICE, handlers=[self._changed])
        except (OSError, RuntimeError, ValueError) as exc:
            log.warning("zeroconf browse failed (%s); add kits by address", exc)
        return self

    def _changed(self, zeroconf: Any, service_type: str, name: str, state_change: Any) -> None:
        from zeroconf import ServiceStateChange

        if state_change is ServiceStateChange.Removed:
            with self._lock:
                for kid, kit in list(self._found.items()):
                    if kit.host == name:
                        del self._found[kid]
            return
        threading.Thread(target=self._resolve, args=(zeroconf, service_type, name),
                         daemon=True).start()

    def _resolve(self, zeroconf: Any, service_type: str, name: str) -> None:
        info = zeroconf.get_service_info(service_type, name, timeout=3000)
        if info is None:
            return
        kit = parse_info(name, info.properties or {}, info.port or 0,
                         info.parsed_addresses())
        if kit is None or kit.kit_id == self.own_kit_id:
            return
        kit.server = str(info.server or "")
        with self._lock:
            self._found[kit.kit_id] = kit

    def found(self) -> list[FoundKit]:
        with self._lock:
            return sorted(self._found.values(), key=lambda k: (k.name, k.kit_id))

    def close(self) -> None:
        browser, zc = self._browser, self._zc
        self._browser = self._zc = None
        if browser is not None:
            browser.cancel()
        if zc is not None:
            _close_off_loop(zc.close)


def parse_info(name: str, props: dict[Any, Any], port: int,
               addresses: list[str]) -> FoundKit | None:
    """A FoundKit from a service's TXT record, or None if it is not a labkit record."""
    def text(key: str) -> str:
        value = props.get(key.encode(), props.get(key))
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="replace")
        return "" if value is None else str(value)

    kit_id = text("id")
    if not kit_id or not 0 < port < 65536:
        return None
    try:
        labs = int(text("labs") or 0)
    except ValueError:
        labs = 0
    return FoundKit(kit_id=kit_id, name=text("name") or kit_id[:8], version=text("v"),
                    port=port, addresses=list(addresses), host=name, packs=text("packs"),
                    labs=labs, status=from_txt(text))
