"""Long-lived response bodies (MJPEG, SSE) handed from a Flask view to the event loop.

A thread-per-request server ties one worker thread to every open stream, so a class of open
live views starves the pages and the JSON API. Under the kit's ASGI server
(labkit/web/asgi.py) a streaming view still runs in Flask as usual — access control, session,
locale, error handlers and response headers all apply — but instead of a blocking generator
it registers an *async* body here and returns an empty placeholder; the server sends the
view's status and headers, then runs the async body on its event loop, where an idle stream
costs a few kilobytes and no thread.

Under any other WSGI server (waitress, Flask's test client) `stream_handoff()` is None and the
view returns its ordinary blocking generator.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Iterator

from flask import Response, request

# The key of this request's handoff slot in the ASGI scope (the WSGI bridge exposes the scope
# as environ["asgi.scope"]).
SCOPE_KEY = "labkit.stream_handoff"


class StreamClosed(Exception):
    """The viewer went away; the async body should stop."""


class AsyncSink:
    """Where an async body writes: one HTTP response body on the event loop.

    `write()` returns once the server has accepted the bytes; the server applies back-pressure
    (it waits while the socket's send buffer is above its high-water mark), so a slow viewer
    holds at most about one chunk plus that buffer, never a queue of chunks.
    """

    def __init__(self, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        self._send = send
        self.closed = False

    async def write(self, data: bytes) -> None:
        if self.closed:
            raise StreamClosed()
        await self._send({"type": "http.response.body", "body": data, "more_body": True})
        if self.closed:
            raise StreamClosed()


AsyncBody = Callable[[AsyncSink], Awaitable[None]]


class StreamHandoff:
    """One request's slot: the view puts its async body here, the server runs it."""

    def __init__(self) -> None:
        self.body: AsyncBody | None = None
        self.on_abandon: Callable[[], None] | None = None

    def take(self, body: AsyncBody, on_abandon: Callable[[], None] | None = None
             ) -> Iterator[bytes]:
        """Register `body`; returns the (empty) WSGI body for the view's Response.

        `on_abandon` runs if the server never starts the body (e.g. the client left first), so
        resources the view opened (an event subscription) are released either way.
        """
        self.body = body
        self.on_abandon = on_abandon
        return iter(())

    def abandon(self) -> None:
        callback, self.on_abandon = self.on_abandon, None
        if callback is not None:
            callback()


def stream_handoff() -> StreamHandoff | None:
    """This request's handoff slot, or None when the server cannot run async bodies."""
    scope = request.environ.get("asgi.scope")
    if not isinstance(scope, dict):
        return None
    slot = scope.get(SCOPE_KEY)
    return slot if isinstance(slot, StreamHandoff) else None


def stream_response(on_loop: AsyncBody, in_thread: Callable[[], Iterator[bytes]], mimetype: str,
                    *, on_abandon: Callable[[], None] | None = None) -> Response:
    """A live stream's response (MJPEG, SSE): under the kit's server its body runs on the event
    loop and holds no thread; under any other WSGI server it is the plain generator
    `in_thread()`. Never cached, never buffered by a proxy."""
    handoff = stream_handoff()
    body = (handoff.take(on_loop, on_abandon=on_abandon) if handoff is not None
            else in_thread())
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response


class LoopWaker:
    """Wakes every coroutine waiting on one event loop when another thread says so.

    A producer thread (the JPEG encoder) calls `fire()` once per new item; all waiters on the
    loop wake at once. Repeated fires before the loop runs collapse into one wake-up.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._event = asyncio.Event()
        self._pending = False

    def fire(self) -> None:
        if self._pending or self.loop.is_closed():
            return
        self._pending = True
        try:
            self.loop.call_soon_threadsafe(self._wake)
        except RuntimeError:  # loop closed meanwhile
            self._pending = False

    def _wake(self) -> None:
        self._pending = False
        event, self._event = self._event, asyncio.Event()
        event.set()

    def current(self) -> asyncio.Event:
        """The event the next `fire()` sets: take it *before* checking for new items."""
        return self._event


async def wait_event(event: asyncio.Event, timeout: float) -> bool:
    """Wait for `event` up to `timeout` seconds (without creating a task); True if set."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
        return True
    except TimeoutError:
        return False
