"""Run a command with no network but a fake resolver that records every lookup.

"Offline by proof" rather than "offline by hope": the command runs in its own network
namespace (only loopback exists), `/etc/resolv.conf` is bind-mounted to name a tiny DNS server
on 127.0.0.1:53 that answers every A query with 127.0.0.1, and listeners on 127.0.0.1:80/443
record any connection that follows. Whatever the command tries to reach is in the result.

    from tests.security.netns import netns_unavailable, run_offline
    reason = netns_unavailable()          # None, or why no namespace can be made here
    result = run_offline([sys.executable, "-c", "..."], timeout=60)
    assert result.queries == [] and result.connections == []

Namespaces come from `unshare -rnm` (an unprivileged user namespace) or, as root,
`unshare --net --mount`; the first that works is used. This file is also the program that
runs *inside* the namespace (`python netns.py --inner SPEC`).
"""

from __future__ import annotations

import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

UNSHARE_VARIANTS = (["unshare", "-rnm"], ["unshare", "--net", "--mount"])
LISTEN_PORTS = (80, 443)


@dataclass
class OfflineResult:
    """What the command did: its exit, output, and every lookup and connection it tried."""

    returncode: int
    stdout: str
    stderr: str
    queries: list[str] = field(default_factory=list)       # names asked of the resolver
    connections: list[int] = field(default_factory=list)   # ports connected to on loopback


_probe_cache: dict[str, list[str] | str] = {}


def _unshare_prefix() -> list[str] | str:
    """The first unshare invocation that can make a net+mount namespace, or why none can."""
    if "prefix" in _probe_cache:
        return _probe_cache["prefix"]
    reasons = []
    for prefix in UNSHARE_VARIANTS:
        try:
            proc = subprocess.run([*prefix, "true"], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired) as exc:
            reasons.append(f"{' '.join(prefix)}: {exc}")
            continue
        if proc.returncode == 0:
            _probe_cache["prefix"] = prefix
            return prefix
        reasons.append(f"{' '.join(prefix)}: {proc.stderr.strip() or proc.returncode}")
    _probe_cache["prefix"] = "; ".join(reasons)
    return _probe_cache["prefix"]


def netns_unavailable() -> str | None:
    """None if a network namespace can be made here, else the reason (for pytest.skip)."""
    prefix = _unshare_prefix()
    return prefix if isinstance(prefix, str) else None


def run_offline(argv: Sequence[str], *, timeout: float = 120.0, env: dict[str, str] | None = None,
                cwd: str | os.PathLike[str] | None = None) -> OfflineResult:
    """Run `argv` inside a fresh network namespace with the recording resolver."""
    prefix = _unshare_prefix()
    if isinstance(prefix, str):
        raise RuntimeError(f"no network namespace can be made here: {prefix}")
    with tempfile.TemporaryDirectory(prefix="labkit-netns-") as tmp:
        spec = {"argv": list(argv), "timeout": timeout, "cwd": str(cwd) if cwd else None,
                "dir": tmp}
        spec_path = Path(tmp) / "spec.json"
        spec_path.write_text(json.dumps(spec))
        proc = subprocess.run([*prefix, sys.executable, str(Path(__file__).resolve()),
                               "--inner", str(spec_path)],
                              capture_output=True, text=True, timeout=timeout + 30,
                              env=env if env is not None else dict(os.environ))
        result_path = Path(tmp) / "result.json"
        if not result_path.exists():
            raise RuntimeError(f"the namespace harness failed ({proc.returncode}):\n"
                               f"{proc.stdout}\n{proc.stderr}")
        data = json.loads(result_path.read_text())
    return OfflineResult(**data)


# -- inside the namespace ----------------------------------------------------------------------

def _qname(packet: bytes) -> tuple[str, int]:
    """The first question's name and the offset just past its QTYPE/QCLASS."""
    labels, i = [], 12
    while i < len(packet) and packet[i]:
        n = packet[i]
        labels.append(packet[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    return ".".join(labels), i + 5


def _answer(packet: bytes, end: int) -> bytes:
    """A reply with the question and, for A queries, one answer 127.0.0.1."""
    qtype = struct.unpack(">H", packet[end - 4:end - 2])[0] if end <= len(packet) else 0
    header = bytearray(packet[:12])
    header[2] = 0x81 | (packet[2] & 0x01)   # QR, RD copied
    header[3] = 0x80                        # RA, NOERROR
    answers = 1 if qtype == 1 else 0
    header[4:12] = struct.pack(">HHHH", 1, answers, 0, 0)
    body = packet[12:end]
    if answers:
        body += struct.pack(">HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton("127.0.0.1")
    return bytes(header) + body


def _serve_dns(sock: socket.socket, queries: list[str], lock: threading.Lock) -> None:
    while True:
        try:
            packet, addr = sock.recvfrom(4096)
        except OSError:
            return
        if len(packet) < 17:
            continue
        name, end = _qname(packet)
        with lock:
            queries.append(name)
        try:
            sock.sendto(_answer(packet, end), addr)
        except OSError:
            pass


def _serve_tcp(sock: socket.socket, port: int, connections: list[int],
               lock: threading.Lock) -> None:
    while True:
        try:
            conn, _addr = sock.accept()
        except OSError:
            return
        with lock:
            connections.append(port)
        conn.close()


def _inner(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    tmp = Path(spec["dir"])
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    resolv = tmp / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\noptions attempts:1 timeout:1\n")
    subprocess.run(["mount", "--bind", str(resolv), "/etc/resolv.conf"], check=True)
    queries: list[str] = []
    connections: list[int] = []
    lock = threading.Lock()
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind(("127.0.0.1", 53))
    threading.Thread(target=_serve_dns, args=(dns, queries, lock), daemon=True).start()
    for port in LISTEN_PORTS:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(16)
        threading.Thread(target=_serve_tcp, args=(s, port, connections, lock),
                         daemon=True).start()
    try:
        proc = subprocess.run(spec["argv"], capture_output=True, text=True,
                              timeout=spec["timeout"], cwd=spec["cwd"])
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        code = -9
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        err = "timed out"
    time.sleep(0.5)          # late lookups from threads the command left behind
    with lock:
        result = {"returncode": code, "stdout": out, "stderr": err,
                  "queries": list(queries), "connections": list(connections)}
    (tmp / "result.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--inner":
        raise SystemExit(_inner(sys.argv[2]))
    print(__doc__)
    raise SystemExit(2)
