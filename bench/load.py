"""Live-view load on 127.0.0.1: many MJPEG and SSE clients in one asyncio process.

    python -m bench.load --port 8080 --mjpeg 100 --sse 100 --seconds 10 [--slow 5]

Runs as its own process so the clients' CPU does not share the GIL with the latency probe.
Every client connects to 127.0.0.1 only, stops at the deadline, and the process prints one JSON
line: frames/events each client received, failed connections, and for `--slow` clients (which
stop reading for most of the run, then read again) how many stale frames they got after
resuming before reaching a live frame.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

SEQ = re.compile(rb"X-Frame-Seq: (\d+)", re.IGNORECASE)


async def _open(port: int, path: str, rcvbuf: int | None = None, limit: int = 1 << 20
                ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    # asyncio's reader keeps reading into its own buffer up to 2 × limit even while the
    # program does not read: a stalled viewer needs a small one, like a real stalled browser
    reader, writer = await asyncio.open_connection(sock=sock, limit=limit)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n".encode())
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise ConnectionError(status.decode(errors="replace").strip())
    while (await reader.readline()) not in (b"\r\n", b""):
        pass
    return reader, writer


async def _chunks(reader: asyncio.StreamReader, deadline: float) -> AsyncIterator[bytes]:
    """What a stream sends until the deadline or until it closes."""
    while time.monotonic() < deadline:
        try:
            async with asyncio.timeout(max(0.05, deadline - time.monotonic())):
                data = await reader.read(65536)
        except TimeoutError:
            return
        if not data:
            return
        yield data


async def mjpeg_client(port: int, deadline: float, out: dict[str, Any]) -> None:
    frames, tail = 0, b""
    reader, writer = await _open(port, "/stream.mjpg")
    try:
        async for data in _chunks(reader, deadline):
            buf = tail + data
            frames += len(SEQ.findall(buf))
            tail = buf[-32:]
            # a match split across reads would be counted twice: drop what the tail repeats
            frames -= len(SEQ.findall(tail))
    finally:
        writer.close()
    out["mjpeg_frames"].append(frames)


async def slow_client(port: int, deadline: float, pause: float, current_seq: Any,
                      out: dict[str, Any]) -> None:
    """Reads one frame, stops reading for `pause` s, then counts stale frames until live."""
    reader, writer = await _open(port, "/stream.mjpg", rcvbuf=65536, limit=16384)
    try:
        buf = b""
        while not SEQ.search(buf):
            buf += await reader.read(65536)
        await asyncio.sleep(pause)
        live_seq = await current_seq()
        stale, buf, first_after = 0, b"", None
        while time.monotonic() < deadline + 5:
            data = await reader.read(65536)
            if not data:
                break
            buf += data
            seqs = [int(m) for m in SEQ.findall(buf)]
            buf = buf[-32:]
            buf = buf if not SEQ.search(buf) else b""
            for seq in seqs:
                if first_after is None:
                    first_after = seq
                if seq >= live_seq:
                    out["slow"].append({"stale_frames": stale, "first_seq_after_pause": first_after,
                                        "live_seq_at_resume": live_seq})
                    return
                stale += 1
        out["slow"].append({"stale_frames": stale, "first_seq_after_pause": first_after,
                            "live_seq_at_resume": live_seq, "reached_live": False})
    finally:
        writer.close()


async def sse_client(port: int, deadline: float, out: dict[str, Any]) -> None:
    events = 0
    reader, writer = await _open(port, "/events?topics=bench,vision,lab")
    try:
        async for data in _chunks(reader, deadline):
            events += data.count(b"\n\n")
    finally:
        writer.close()
    out["sse_events"].append(events)


API_PATHS = ("/api/bench", "/api/labs/active", "/healthz")


async def api_client(port: int, deadline: float, interval: float, out: dict[str, Any]) -> None:
    """A page polling the JSON API: one request per `interval` on a keep-alive connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    try:
        while time.monotonic() < deadline:
            path = API_PATHS[i % len(API_PATHS)]
            i += 1
            t0 = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            await writer.drain()
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            if b" 200 " in status:
                ms = round((time.perf_counter() - t0) * 1000, 2)
                out["api_ms"].append(ms)
                out["api_ms_by_path"].setdefault(path, []).append(ms)
            else:
                out["failed"].append(status.decode(errors="replace").strip()[:80])
            await asyncio.sleep(interval)
    finally:
        writer.close()


async def run(port: int, mjpeg: int, sse: int, seconds: float, slow: int,
              slow_pause: float, api: int = 0, api_interval: float = 0.5) -> dict[str, Any]:
    out: dict[str, Any] = {"mjpeg_frames": [], "sse_events": [], "slow": [], "failed": [],
                           "api_ms": [], "api_ms_by_path": {}}
    deadline = time.monotonic() + seconds

    async def camera_seq() -> int:
        def get() -> int:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/stream/stats", timeout=10) as r:
                return int(json.loads(r.read())["camera_seq"])
        return await asyncio.to_thread(get)

    async def guarded(coro: Any) -> None:
        try:
            await coro
        except (OSError, ConnectionError, asyncio.IncompleteReadError) as exc:
            out["failed"].append(repr(exc)[:120])

    tasks = []
    for i in range(max(mjpeg, sse)):  # interleave the two kinds, as pages open both
        if i < mjpeg:
            tasks.append(asyncio.ensure_future(guarded(mjpeg_client(port, deadline, out))))
        if i < sse:
            tasks.append(asyncio.ensure_future(guarded(sse_client(port, deadline, out))))
        if i % 20 == 19:
            await asyncio.sleep(0.05)  # a class opening pages, not one SYN flood
    for _ in range(api):
        tasks.append(asyncio.ensure_future(guarded(api_client(port, deadline, api_interval,
                                                              out))))
    for _ in range(slow):
        tasks.append(asyncio.ensure_future(
            guarded(slow_client(port, deadline, slow_pause, camera_seq, out))))
    print(json.dumps({"started": len(tasks)}), flush=True)
    await asyncio.wait(tasks, timeout=seconds + 20)
    for task in tasks:
        task.cancel()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mjpeg", type=int, default=0)
    parser.add_argument("--sse", type=int, default=0)
    parser.add_argument("--slow", type=int, default=0)
    parser.add_argument("--slow-pause", type=float, default=5.0)
    parser.add_argument("--api", type=int, default=0)
    parser.add_argument("--api-interval", type=float, default=0.5)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    seconds = min(args.seconds, 600.0)
    result = asyncio.run(run(args.port, min(args.mjpeg, 1000), min(args.sse, 1000), seconds,
                             min(args.slow, 100), min(args.slow_pause, seconds),
                             min(args.api, 200), max(0.05, args.api_interval)))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
