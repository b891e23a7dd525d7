"""0 × 5xx under malformed input, on every JSON and form route (issue 11 § 10).

Walks `app.url_map` and throws seeded Hypothesis cases at each route — as the teacher, as a
student and with no session — through Flask's test client: path ids past 2^63, JSON bodies
that are not objects, deeply nested JSON, lists where numbers belong, lone surrogates and NUL
in text, the wrong type for every field the views read, and zips with a bad CRC, deflate64,
encryption or corrupt zlib on the upload routes. Every answer must be < 500, and every 4xx
JSON answer must be `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit.web.auth import STUDENT_KEY, TEACHER_KEY

# `make test` runs 30 cases per route; `make test-slow` sets LABKIT_FUZZ_CASES=200
CASES_PER_ROUTE = int(os.environ.get("LABKIT_FUZZ_CASES", "30"))
STREAMS = {"stream.mjpeg", "events.events", "stream.snapshot"}   # endless / waiting bodies
FIELDS = ["name", "kind", "classes", "seconds", "classifier", "device", "action", "trigger",
          "text", "lang", "commands", "word", "colour", "exercise", "reset", "takeover", "self",
          "answer", "pin", "confirm", "current", "code", "mode", "picture", "next", "value",
          "celsius", "type", "led", "rgb", "state", "level_threshold_db", "kws_threshold",
          "words_threshold", "clap_threshold_db", "rate", "act", "int8", "fmt", "topics",
          "level-understand", "file", "files"]
NASTY_TEXT = ["", "\x00", "a\x00b", "\ud800", "\udfff\ud800", "😀" * 50, "x" * 5000, "../..",
              "--phonout=/tmp/x", "-f /etc/passwd", "%s%n", "1e309", "NaN", "-1", "0", "abc",
              "开灯", " ", "\n", "<script>"]
BIG_INTS = [2 ** 63, 2 ** 63 - 1, 2 ** 64 + 7, 10 ** 30, -(2 ** 63) - 1]


# ---- nasty uploads -----------------------------------------------------------------------------
def _zip(name: str, data: bytes, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        zf.writestr(name, data)
    return buf.getvalue()


def _bad_crc() -> bytes:
    raw = bytearray(_zip("model.onnx", b"\x08\x07" * 200, zipfile.ZIP_STORED))
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):   # CRC in both the local and central header
        at = raw.find(sig)
        off = at + (14 if sig == b"PK\x03\x04" else 16)
        raw[off:off + 4] = b"\xde\xad\xbe\xef"
    return bytes(raw)


def _with_method(method: int, flags: int = 0) -> bytes:
    raw = bytearray(_zip("card.json", b'{"a": 1}' * 50))
    for sig, moff, foff in ((b"PK\x03\x04", 8, 6), (b"PK\x01\x02", 10, 8)):
        at = raw.find(sig)
        raw[at + moff:at + moff + 2] = struct.pack("<H", method)
        raw[at + foff:at + foff + 2] = struct.pack("<H", flags)
    return bytes(raw)


def _corrupt_zlib() -> bytes:
    raw = bytearray(_zip("model.onnx", zlib.compress(b"abc") * 300))
    at = raw.find(b"PK\x03\x04") + 30 + len("model.onnx")
    raw[at:at + 40] = b"\xff" * 40
    return bytes(raw)


def _wav(rate: int, channels: int = 1, frames: int = 800) -> bytes:
    data = np.zeros(frames * channels, np.int16).tobytes()
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, channels, rate, rate * 2 * channels, 2 * channels, 16)
    return header + b"data" + struct.pack("<I", len(data)) + data


UPLOADS = [
    _bad_crc(), _with_method(9), _with_method(8, flags=1), _with_method(99), _corrupt_zlib(),
    _zip("../../evil", b"x"), b"PK\x03\x04" + b"\x00" * 40, b"", b"\x00" * 64,
    _wav(1), _wav(1_000_003), _wav(0), _wav(16000, channels=0), _wav(16000, channels=9),
    b"RIFF\xff\xff\xff\xffWAVEfmt ", b"\x89PNG\r\n\x1a\n" + b"\x00" * 30,
    b"\xff\xd8\xff\xe0" + b"\x00" * 30, "姓名\n王芳\n".encode("gbk"), b"\xff\xfe\x00\x00",
]


# ---- strategies (pools of nasty values, cheap to draw: the fuzz makes ~15 000 requests) ------
NESTED = [[], [1, 2], ["a", None], {}, {"a": 1}, [[[]]], {"device": []}, [{"name": 1}],
          {"": {"": {"": []}}}, [2 ** 63], [1.5, "x"], {"seconds": "abc"}]
text = st.one_of(st.sampled_from(NASTY_TEXT), st.text(alphabet="ab开灯0-_/.%", max_size=8))
scalars = st.one_of(st.sampled_from([None, True, False, 0, -1, 1.5, 1e308, -1e308, 0.5]),
                    st.sampled_from(BIG_INTS), st.integers(-10, 10 ** 6), text,
                    st.sampled_from(NESTED))
field_objects = st.dictionaries(st.sampled_from(FIELDS), scalars, max_size=5)
json_values = st.one_of(scalars, st.lists(scalars, max_size=4), field_objects)


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth if depth % 2 else '{"a":' * depth + "1" + "}" * depth


@st.composite
def bodies(draw: Any) -> dict[str, Any]:
    """Keyword arguments for client.open(): one kind of malformed (or fine) body."""
    kind = draw(st.sampled_from(["object", "object", "json", "raw", "deep", "form", "file",
                                 "none"]))
    if kind == "object":
        return {"data": json.dumps(draw(field_objects)), "content_type": "application/json"}
    if kind == "json":
        return {"data": json.dumps(draw(json_values)), "content_type": "application/json"}
    if kind == "raw":
        raw = draw(st.one_of(st.binary(max_size=60), st.sampled_from(
            [b"{", b'{"a": NaN}', b'"\\ud800"', b"\x00", b'{"name": "\\u0000"}', b"[1,2",
             b'{"seconds": 1e999}'])))
        return {"data": raw, "content_type": draw(st.sampled_from(
            ["application/json", "text/plain", "application/x-www-form-urlencoded"]))}
    if kind == "deep":
        return {"data": _deep(draw(st.sampled_from([200, 1001, 5000, 20001]))),
                "content_type": "application/json"}
    if kind == "form":
        form = draw(st.dictionaries(st.sampled_from(FIELDS), st.one_of(
            st.sampled_from([t for t in NASTY_TEXT if "\ud800" not in t and "\udfff" not in t]),
            st.text(alphabet="ab开灯0-_/.%=+", max_size=8)),
            max_size=5))
        return {"data": form}
    if kind == "file":
        name = draw(st.sampled_from(["file", "files"]))
        blob = draw(st.one_of(st.sampled_from(UPLOADS), st.binary(max_size=200)))
        extra = draw(st.dictionaries(st.sampled_from(["word", "name"]),
                                     st.sampled_from(["开灯", "", "x" * 300]), max_size=1))
        return {"data": {name: (io.BytesIO(blob), draw(st.sampled_from(
            ["a.zip", "a.wav", "a.png", "a.csv", "", "../x"]))), **extra},
            "content_type": "multipart/form-data"}
    return {}


# ---- the kit under fuzz ------------------------------------------------------------------------
@pytest.fixture
def fuzz_app(app: Any, data_dir: Path, model_store: Any) -> Any:
    """The app with a class, a student, the teacher PIN and one /learn project of each kind."""
    from labkit.store import Store

    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    store = Store.for_runtime(app.extensions["labkit"])
    # durability is not under test here: skip the fsyncs so thousands of requests stay fast
    store.db.query("PRAGMA synchronous=OFF")
    store.pin.replace("24681357", "24681357")
    cls = store.roster.add_class("一班")
    kid = store.roster.add_student(cls.id, "王芳")
    from labkit.web.learn import projects

    with app.test_request_context():
        made = [projects().create("p", kind, ["a", "b"], owner=kid.id)
                for kind in ("image", "sound", "sensor")]
    app.fuzz_ids = {"int": [1, 2, 3], "str": [p.id for p in made] + [
        c.id for p in made for c in p.classes] + ["face", "colour", "pose", "shapes", "grey",
                                                 "csv", "zip", "face_led"]}
    app.fuzz_kid = kid
    return app


def _client(app: Any, role: str) -> Any:
    from labkit.store import Store

    store = Store.for_runtime(app.extensions["labkit"])
    if store.roster.student_by_id(app.fuzz_kid.id) is None:   # a fuzzed delete removed them
        cls = store.roster.classes()[0].id if store.roster.classes() else \
            store.roster.add_class("一班").id
        app.fuzz_kid = store.roster.add_student(cls, f"王芳{store.db.one('SELECT MAX(id) FROM students')[0]}")
    client = app.test_client()
    with client.session_transaction() as s:
        if role == "teacher":
            s[TEACHER_KEY] = store.sessions.open("teacher")
        elif role == "student":
            s[STUDENT_KEY] = store.sessions.open("student", student_id=app.fuzz_kid.id,
                                                 verified=True)
    html = client.get("/teacher/recover").get_data(as_text=True)
    client.environ_base["HTTP_X_CSRFTOKEN"] = re.search(
        r'name="csrf-token" content="([^"]+)"', html).group(1)
    return client


def _routes(app: Any) -> list[tuple[Any, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint in STREAMS:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method == "GET" and not rule.arguments and not rule.rule.startswith("/api/"):
                continue    # a page with no input: nothing to fuzz
            out.append((rule, method))
    return out


def _urls(rule: Any, ids: dict[str, list[Any]]) -> Any:
    """A strategy for this rule's URLs: real ids, ids past 2^63, odd strings, odd queries."""
    parts = []
    for arg in sorted(rule.arguments):
        conv = type(rule._converters[arg]).__name__
        if "Int" in conv:
            parts.append(st.one_of(st.sampled_from(ids["int"]), st.sampled_from(BIG_INTS[:4]),
                                   st.integers(min_value=0, max_value=2 ** 70)))
        else:
            parts.append(st.one_of(st.sampled_from(ids["str"]), st.sampled_from(
                ["x", "p" + "0" * 30, "c1", "s1", "a" * 300, "%00", "..", "p\u4e00"]),
                st.text(alphabet="abcdefp0123456789-_", min_size=1, max_size=12)))
    query = st.dictionaries(st.sampled_from(["act", "int8", "next", "topics", "lang"]),
                            st.sampled_from(["0", "1", "", "%00", "//evil", "zz"]), max_size=2)

    def build(values: tuple[Any, ...]) -> str:
        *args, q = values
        url = rule.rule
        for arg, value in zip(sorted(rule.arguments), args, strict=True):
            url = re.sub(rf"<(?:[^:<>]+:)?{re.escape(arg)}>", str(value).replace("/", "%2F"),
                         url)
        return url + ("?" + "&".join(f"{k}={v}" for k, v in q.items()) if q else "")

    return st.tuples(*parts, query).map(build)


def _check(response: Any, where: str) -> None:
    assert response.status_code < 500, (where, response.status_code,
                                         response.get_data(as_text=True)[:400])
    if response.status_code >= 400 and response.mimetype == "application/json":
        error = json.loads(response.get_data())["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str), where


# One test per blueprint keeps each under the per-test timeout; "other" takes every route of a
# blueprint not named here, so a new blueprint is fuzzed the day it lands.
BLUEPRINTS = ["audio", "bench", "events", "home", "labs", "learn", "portfolio", "stream",
              "student_signin", "teacher", "vision"]


def _bucket(endpoint: str) -> str:
    name = endpoint.split(".")[0]
    return name if name in BLUEPRINTS else "other"


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("blueprint", [*BLUEPRINTS, "other"])
def test_no_route_answers_5xx(fuzz_app: Any, monkeypatch: Any, blueprint: str) -> None:
    from labkit.drivers.audio import Speaker

    # speech is fire-and-forget on a thread; keep 200 fuzzed sentences from queueing espeak
    monkeypatch.setattr(Speaker, "say", lambda self, *a, **k: None)
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    clients = {role: _client(fuzz_app, role) for role in ("teacher", "student", "anonymous")}
    routes = sorted((r for r in _routes(fuzz_app) if _bucket(r[0].endpoint) == blueprint),
                    key=lambda r: "delete" in r[0].endpoint)
    assert routes or blueprint in ("stream", "events", "other")
    session_changers = ("logout", "leave", "login", "change_pin", "recover", "pick_student",
                        "student_signin", "setup")
    timings: list[tuple[float, str, str]] = []
    for rule, method in routes:
        t0 = time.perf_counter()
        _fuzz_route(fuzz_app, clients, rule, method,
                    fresh=any(s in rule.endpoint for s in session_changers))
        timings.append((time.perf_counter() - t0, method, rule.rule))
    timings.sort(reverse=True)
    print(blueprint, len(routes), "routes; slowest:",
          [(round(t, 2), m, r) for t, m, r in timings[:3]])


def _fuzz_route(app: Any, clients: dict[str, Any], rule: Any, method: str, *,
                fresh: bool) -> None:
    """CASES_PER_ROUTE seeded cases against one route (a fresh client per case for routes that
    end or change the caller's session)."""

    @settings(max_examples=CASES_PER_ROUTE, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(role=st.sampled_from(sorted(clients)), url=_urls(rule, app.fuzz_ids),
           body=bodies() if method != "GET" else st.just({}))
    def case(role: str, url: str, body: dict[str, Any]) -> None:
        client = _client(app, role) if fresh else clients[role]
        response = client.open(url, method=method, **body)
        _check(response, f"{method} {url} as {role}: {str(body)[:200]}")

    case()
