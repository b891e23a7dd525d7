"""Lab discovery stays off the way to the first /healthz and is done once the kit listens.

Reading every lab folder (lab.yaml validated, checks.py compiled) and pypinyin's dictionary
take most of a second: before the server listens they would hold back the kit's first answer,
on the first page they would make a child wait. `labkit serve` hands the server a `listening`
callback that warms them in a thread (labkit/web/warmup.py). Checked through `sys.modules`, the
registry's cache and recorded calls, never a timing.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading

from labkit.projects import registry as reg
from labkit.web import asgi, warmup
from tests.helpers import REPO, free_port, labkit_env

START = ("import sys, json\n"
         "from labkit.web import create_app\n"
         "from labkit.projects import registry\n"
         "c = create_app().test_client()\n"
         "assert c.get('/healthz').status_code == 200\n"
         "print(json.dumps({'pypinyin': 'pypinyin' in sys.modules,\n"
         "                  'jsonschema': 'jsonschema' in sys.modules,\n"
         "                  'labs_discovered': bool(registry._cached)}))\n")


def test_healthz_comes_before_any_lab_discovery(tmp_path):
    env = labkit_env(tmp_path / "data")
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, "-c", START], cwd=str(REPO), env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen == {"pypinyin": False, "jsonschema": False, "labs_discovered": False}


def test_warm_up_discovers_the_labs_the_pages_then_reuse(app, client):
    reg.forget()
    assert warmup.warm_first_pages(app) == list(warmup.STEPS)
    assert "pypinyin" in sys.modules
    key = str(app.extensions["labkit"].settings.data_dir)
    warmed = reg._cached[key]
    assert client.get("/").status_code == 200
    assert reg._cached[key] is warmed      # the page used what the warm-up found


def test_a_page_during_the_warm_up_gets_the_same_labs(app, client):
    reg.forget()
    thread = threading.Thread(target=warmup.warm_first_pages, args=(app,))
    thread.start()
    page = client.get("/")                 # while the warm-up may hold the discovery lock
    thread.join(timeout=60)
    assert page.status_code == 200
    again = client.get("/")
    assert again.status_code == 200
    assert _lab_links(page.data) and _lab_links(page.data) == _lab_links(again.data)


def _lab_links(html: bytes) -> set[bytes]:
    return set(re.findall(rb'href="/labs/([^"?]+)', html))


def test_a_failing_step_is_logged_and_the_rest_still_run(app, monkeypatch, caplog):
    def broken() -> None:
        raise RuntimeError("a lab folder that cannot be read")

    monkeypatch.setattr(warmup, "_curriculum", broken)
    assert warmup.warm_first_pages(app) == ["pinyin", "templates"]
    assert "warm-up step curriculum failed" in caplog.text


def test_the_listening_callback_waits_for_the_server(monkeypatch):
    started = threading.Event()
    called = threading.Event()
    seen_started: list[bool] = []

    def then() -> None:
        seen_started.append(started.is_set())
        called.set()

    asgi._when_listening(started.is_set, then)
    assert not called.wait(0.2)            # not before the server accepts connections
    started.set()
    assert called.wait(5) and seen_started == [True]


def test_the_listening_callback_is_dropped_if_the_server_never_starts():
    called = threading.Event()
    asgi._when_listening(lambda: False, called.set, timeout=0.1)
    assert not called.wait(0.5)


def test_serve_warms_the_first_pages_once_listening(monkeypatch, tmp_path):
    """`labkit serve` passes run_server a `listening` callback, and that callback warms."""
    from click.testing import CliRunner

    from labkit import cli

    recorded: dict[str, object] = {}
    warmed: list[object] = []

    def fake_run_server(app, **kwargs):
        recorded.update(kwargs)
        kwargs["listening"]()
        raise KeyboardInterrupt

    monkeypatch.setattr(asgi, "run_server", fake_run_server)
    monkeypatch.setattr(warmup, "warm_first_pages", warmed.append)
    monkeypatch.setenv("LABKIT_PORT", str(free_port()))
    result = CliRunner().invoke(cli.main, ["serve", "--no-zeroconf"])
    assert result.exit_code == 0, result.output
    assert "ready" not in recorded         # nothing is announced before the port listens
    assert len(warmed) == 1 and "is running" in result.output
