"""The kit's HTTP server: one port, one process, pages in threads and live streams on a loop.

Every request goes through Flask (routes, `@allow` access control, sessions, locale, error
pages, security headers) via the `a2wsgi` bridge, which runs it on a bounded thread pool. A
streaming view (MJPEG `/stream.mjpg`, SSE `/events`) registers an async body in its
`StreamHandoff` (labkit/web/handoff.py); once Flask has produced the status and headers, this
app runs that body on the event loop. An open live view then costs a coroutine and its
socket buffer instead of a worker thread, so 200 open streams leave every thread free for the
pages and the JSON API. The camera, the microphone and the pins stay in this one process.

Why this design (measured in bench/stream.py, see bench/README.md): with waitress each stream
holds one of its worker threads and up to 16 MB of already-sent data; here the server's flow
control waits for the socket to drain before the next frame is taken, so a slow viewer holds at
most one frame in flight and skips frames instead of queueing them.

`run_server()` serves the app with uvicorn (default) or hypercorn, or — for comparison and as
a fallback — the plain WSGI app under waitress.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from typing import Any, Awaitable, Callable

from flask import Flask

from labkit.web.handoff import SCOPE_KEY, AsyncSink, StreamHandoff

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

SERVERS = ("uvicorn", "hypercorn", "waitress")

# What a slow viewer can have queued on the kit: the kernel's send buffer of its connection
# (inherited from the listening socket; Linux doubles the figure and would otherwise grow it to
# megabytes — seconds of stale video) plus the event loop's write buffer, above which the
# server stops taking frames for that viewer. 32 KiB still fills a classroom Wi-Fi link
# (bandwidth × delay there is tens of kilobytes).
SEND_BUFFER_BYTES = 32 * 1024
WRITE_HIGH_WATER_BYTES = 16 * 1024


def _h11_protocol() -> type:
    """uvicorn's HTTP/1.1 protocol with a small write buffer per connection."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class KitH11Protocol(H11Protocol):  # type: ignore[misc]
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            transport.set_write_buffer_limits(high=WRITE_HIGH_WATER_BYTES)

    return KitH11Protocol


def listen_socket(host: str, port: int) -> socket.socket:
    """The server's listening socket, with a bounded per-connection send buffer."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class KitASGI:
    """ASGI app around the Flask app: Flask for every request, async bodies for streams."""

    def __init__(self, app: Flask, *, threads: int = 16) -> None:
        from a2wsgi import WSGIMiddleware

        self.flask = app
        self.wsgi = WSGIMiddleware(app, workers=threads)  # type: ignore[arg-type]
        self.open_streams = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # no websockets on the kit
        handoff = StreamHandoff()
        scope = {**scope, SCOPE_KEY: handoff}
        streaming = False

        async def send_from_flask(message: dict[str, Any]) -> None:
            nonlocal streaming
            if message["type"] == "http.response.start":
                if handoff.body is not None and message.get("status") == 200:
                    streaming = True
                    message = {**message, "headers": [
                        (k, v) for k, v in message.get("headers", []) if k != b"content-length"]}
            elif streaming:
                return  # the view's empty placeholder body: the async body replaces it
            await send(message)

        try:
            await self.wsgi(scope, receive, send_from_flask)  # type: ignore[arg-type]
        except BaseException:
            handoff.abandon()
            raise
        if not streaming or handoff.body is None:
            handoff.abandon()
            return
        handoff.on_abandon = None  # the body owns its resources from here on
        await self._run_body(handoff.body, receive, send)

    async def _run_body(self, body: Callable[[AsyncSink], Awaitable[None]],
                        receive: Receive, send: Send) -> None:
        sink = AsyncSink(send)
        body_task = asyncio.ensure_future(body(sink))
        watcher = asyncio.ensure_future(_until_disconnect(receive))
        self.open_streams += 1
        try:
            await asyncio.wait({body_task, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.open_streams -= 1
            sink.closed = True
            for task in (body_task, watcher):
                if not task.done():
                    task.cancel()
            results = await asyncio.gather(body_task, watcher, return_exceptions=True)
        error, disconnected = results
        if isinstance(error, Exception):
            log.error("stream body failed: %r", error)
        if disconnected is not True:
            try:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except Exception:  # the client left while we ended the body
                pass

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _until_disconnect(receive: Receive) -> bool:
    """Returns True once the client has gone away."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return True


def uvicorn_server(asgi: KitASGI, *, host: str, port: int) -> tuple[Any, socket.socket]:
    """The kit's uvicorn server and its bound socket: `server.run(sockets=[sock])` serves
    (in any thread; set `server.should_exit = True` to stop)."""
    import uvicorn

    config = uvicorn.Config(
        asgi, host=host, port=port, loop="asyncio", http=_h11_protocol(), ws="none",
        lifespan="off", interface="asgi3", log_level="warning", access_log=False,
        server_header=False, proxy_headers=False,  # REMOTE_ADDR is the socket's peer
        timeout_keep_alive=5, timeout_graceful_shutdown=2, backlog=512)
    return uvicorn.Server(config), listen_socket(host, port)


def _when_listening(started: Callable[[], bool], then: Callable[[], None] | None,
                    timeout: float = 60.0) -> None:
    """Call `then` in a daemon thread once `started()` holds (polled; never before, and not
    at all if the server has not started within `timeout`)."""
    if then is None:
        return

    def wait() -> None:
        deadline = time.monotonic() + timeout
        while not started():
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        then()

    threading.Thread(target=wait, name="labkit-listening", daemon=True).start()


def run_server(app: Flask, *, host: str, port: int, threads: int = 16,
               server: str = "uvicorn", ready: Callable[[], None] | None = None,
               listening: Callable[[], None] | None = None) -> None:
    """Serve `app` until interrupted (SIGINT/SIGTERM).

    `ready` runs just before the server starts; `listening` runs in its own thread once it
    accepts connections (uvicorn), or right away for the other servers."""
    if server not in SERVERS:
        raise ValueError(f"server must be one of {SERVERS}")
    if server == "waitress":
        from waitress import create_server

        wsgi_server = create_server(app, host=host, port=port, threads=threads,
                                    channel_timeout=30, ident="labkit")
        if ready:
            ready()
        _when_listening(lambda: True, listening)
        try:
            wsgi_server.run()
        except KeyboardInterrupt:
            pass
        return
    asgi = KitASGI(app, threads=threads)
    if server == "uvicorn":
        uv, sock = uvicorn_server(asgi, host=host, port=port)
        if ready:
            ready()
        _when_listening(lambda: bool(uv.started), listening)
        uv.run(sockets=[sock])
        return
    import signal

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"[{host}]:{port}" if ":" in host else f"{host}:{port}"]
    config.accesslog = None
    config.include_server_header = False
    config.graceful_timeout = 2
    config.keep_alive_timeout = 5
    stop = asyncio.Event()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(asgi, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]

    if ready:
        ready()
    _when_listening(lambda: True, listening)
    asyncio.run(main())
