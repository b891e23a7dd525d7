"""The ASGI front in-process: streams run on the loop, Flask (and its access rules) still decide."""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any, Coroutine

from labkit.web.access import TEACHER
from labkit.web.asgi import KitASGI


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    """asyncio.run on a thread of its own: a session's Playwright browser keeps an event loop
    running on the main thread, where asyncio.run refuses to start a second one."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _scope(path: str, query: bytes = b"", client: tuple[str, int] = ("192.0.2.7", 50000)
           ) -> dict[str, Any]:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
            "root_path": "", "headers": [(b"host", b"kit.local"), (b"accept", b"*/*")],
            "client": client, "server": ("127.0.0.1", 8080)}


async def _request(asgi: KitASGI, scope: dict[str, Any], *, until: bytes | None = None,
                   timeout: float = 10.0) -> tuple[int, dict[bytes, bytes], bytes, bool]:
    """Run one request; disconnect once `until` appears in the body (or at the end)."""
    sent: list[dict[str, Any]] = []
    body = bytearray()
    got = asyncio.Event()
    gone = asyncio.Event()
    first = True

    async def receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            body.extend(message.get("body", b""))
            if until is not None and until in body:
                got.set()
            if not message.get("more_body", False):
                got.set()

    task = asyncio.ensure_future(asgi(scope, receive, send))
    await asyncio.wait_for(got.wait(), timeout)
    gone.set()
    await asyncio.wait_for(task, timeout)
    start = sent[0]
    finished = bool(sent) and sent[-1]["type"] == "http.response.body" and not sent[-1].get(
        "more_body", False)
    return start["status"], dict(start["headers"]), bytes(body), finished


def test_mjpeg_runs_on_the_loop_and_releases_the_viewer(app, runtime):
    asgi = KitASGI(app, threads=2)
    status, headers, body, _ = _run(_request(asgi, _scope("/stream.mjpg"),
                                                    until=b"\xff\xd9"))
    assert status == 200
    assert headers[b"content-type"].startswith(b"multipart/x-mixed-replace")
    assert b"content-length" not in headers  # the placeholder's length must not leak
    assert b"content-security-policy" in headers  # Flask's after_request still applied
    assert b"--labkitframe" in body and b"\xff\xd8" in body  # a JPEG part
    assert runtime.services["mjpeg"].viewers == 0
    assert asgi.open_streams == 0


def test_sse_runs_on_the_loop_and_unsubscribes(app, runtime):
    asgi = KitASGI(app, threads=2)
    before = runtime.bus.subscriber_count

    async def go() -> tuple[int, bytes]:
        task = asyncio.ensure_future(_request(asgi, _scope("/events", b"topics=demo"),
                                              until=b"event: demo.ping"))
        for _ in range(200):  # publish from another thread, as drivers do
            await asyncio.sleep(0.02)
            if runtime.bus.subscriber_count > before:
                break
        await asyncio.to_thread(runtime.bus.publish, "demo.ping", {"n": 1})
        status, _, body, _ = await task
        return status, body

    status, body = _run(go())
    assert status == 200
    assert body.startswith(b"retry: 2000") and b'data: {"n":1}' in body
    assert runtime.bus.subscriber_count == before


def test_stream_routes_keep_their_declared_roles(app, runtime):
    """A stream route that declares teachers only is refused before any frame is sent."""
    view = app.view_functions["stream.mjpeg"]
    declared = getattr(view, "labkit_roles", None)
    view.labkit_roles = frozenset({TEACHER})
    try:
        asgi = KitASGI(app, threads=2)
        status, headers, body, finished = _run(
            _request(asgi, {**_scope("/stream.mjpg"),
                            "headers": [(b"host", b"kit"), (b"accept", b"application/json")]}))
    finally:
        if declared is None:
            del view.labkit_roles
        else:
            view.labkit_roles = declared
    assert status in (302, 401, 403)
    assert b"--labkitframe" not in body and finished
    assert "mjpeg" not in runtime.services or runtime.services["mjpeg"].viewers == 0


def test_pages_still_answer_through_the_bridge(app):
    asgi = KitASGI(app, threads=2)
    status, headers, body, finished = _run(_request(asgi, _scope("/healthz")))
    assert status == 200 and finished and b'"status":"ok"' in body
