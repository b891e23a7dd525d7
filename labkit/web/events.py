"""Server-sent events: live bench state, detector results and lab progress to the page.

`GET /events?topics=bench,vision.face` streams every bus event whose topic starts with one of
the given prefixes. A comment line every few seconds keeps proxies and the browser from
dropping an idle connection; when the tab closes the subscription is removed.

Under the kit's ASGI server the body is a coroutine (`_astream`) woken by the bus, so an open
tab holds no thread; its backlog is the subscription's bounded queue (oldest dropped).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Iterator

from flask import Blueprint, Response, current_app, request

from labkit.events import Subscription
from labkit.web.access import ANONYMOUS, allow
from labkit.web.handoff import AsyncSink, StreamClosed, stream_response, wait_event

bp = Blueprint("events", __name__)

HEARTBEAT_SECONDS = 10.0


def sse(topic: str, data: Any) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"event: {topic}\ndata: {payload}\n\n".encode("utf-8")


def _stream(sub: Subscription, initial: list[bytes]) -> Iterator[bytes]:
    try:
        yield b"retry: 2000\n\n"
        yield from initial
        while True:
            event = sub.get(timeout=HEARTBEAT_SECONDS)
            if event is None:
                yield b": keep-alive\n\n"
                continue
            yield sse(event.topic, event.data)
    finally:
        sub.close()


async def _astream(sub: Subscription, initial: list[bytes], sink: AsyncSink) -> None:
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    pending = False

    def woken() -> None:
        nonlocal pending
        pending = False
        wake.set()

    def on_put() -> None:  # publisher's thread: schedule one wake-up, however many events
        nonlocal pending
        if not pending and not loop.is_closed():
            pending = True
            try:
                loop.call_soon_threadsafe(woken)
            except RuntimeError:
                pending = False

    sub.on_put = on_put
    try:
        await sink.write(b"retry: 2000\n\n" + b"".join(initial))
        while True:
            wake.clear()
            chunks = []
            while len(chunks) < 64 and (event := sub.get_nowait()) is not None:
                chunks.append(sse(event.topic, event.data))
            if chunks:
                await sink.write(b"".join(chunks))
                continue
            if not await wait_event(wake, HEARTBEAT_SECONDS):
                await sink.write(b": keep-alive\n\n")
    except StreamClosed:
        pass
    finally:
        sub.on_put = None
        sub.close()


@bp.get("/events")
@allow(ANONYMOUS)
def events() -> Response:
    runtime = current_app.extensions["labkit"]
    topics = tuple(t.strip() for t in request.args.get("topics", "bench").split(",") if t.strip())
    initial = []
    if any(t == "bench" or t.startswith("bench.") for t in topics):
        initial.append(sse("bench.state", runtime.bench.state()))
    # subscribe now, inside the request, so no event between page load and stream is lost
    sub = runtime.bus.subscribe(*topics)
    if any(t == "lab.state" or "lab.state".startswith(t + ".") for t in topics):
        runner = runtime.services.get("labs.runner")   # no runner yet: no lab has run
        state = runner.state_event() if runner is not None else None
        if state is not None:
            initial.append(sse("lab.state", state))
    return stream_response(lambda sink: _astream(sub, initial, sink),
                           lambda: _stream(sub, initial), "text/event-stream",
                           on_abandon=sub.close)
