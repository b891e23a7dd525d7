"""Server-sent events: live bench state, detector results and lab progress to the page.

`GET /events?topics=bench,vision.face` streams every bus event whose topic starts with one of
the given prefixes. A comment line every few seconds keeps proxies and the browser from
dropping an idle connection; when the tab closes the subscription is removed.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from flask import Blueprint, Response, current_app, request

from labkit.events import Subscription
from labkit.web.access import ANONYMOUS, allow

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
    response = Response(_stream(sub, initial), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response
