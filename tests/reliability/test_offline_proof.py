"""Offline by proof: `labkit serve` and a full lab demo inside a network namespace with only
loopback; every connect attempt is recorded (a Python audit hook in each labkit process, plus
the namespace's recording resolver) and none leaves 127.0.0.1."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.security.netns import netns_unavailable, run_offline

REPO = Path(__file__).resolve().parents[2]

# Installed into every Python process of the test through PYTHONPATH: records each socket
# connect/sendto/lookup with its address, one JSON line per attempt, as it happens.
SITECUSTOMIZE = textwrap.dedent('''
    import json, os, sys
    _log = os.environ.get("LABKIT_CONNECT_LOG")
    def _hook(event, args):
        if _log and event in ("socket.bind", "socket.connect", "socket.sendto",
                              "socket.getaddrinfo",
                              "socket.gethostbyname", "socket.gethostbyaddr"):
            target = (args[1] if event in ("socket.bind", "socket.connect", "socket.sendto")
                      else args[0])
            if isinstance(target, tuple) and target and isinstance(target[0], bytes):
                target = (target[0].decode("ascii", "replace"),) + tuple(target[1:])
            with open(_log, "a") as f:
                f.write(json.dumps([event, repr(target), os.getpid()]) + "\\n")
    sys.addaudithook(_hook)
''')

DRIVER = textwrap.dedent('''
    import json, subprocess, sys, time, urllib.request
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from tests.helpers import LABKIT, labkit_env, start_server
    work = Path(sys.argv[2])
    extra = {"PYTHONPATH": f"{work / 'hook'}:{sys.argv[1]}",
             "LABKIT_CONNECT_LOG": str(work / "connects.jsonl")}
    server = start_server(work / "data", **extra)
    pages = 0
    try:
        for path in ("/", "/healthz", "/labs", "/labs/face_led", "/teacher", "/learn"):
            try:
                with urllib.request.urlopen(server.url + path, timeout=10) as r:
                    r.read()
                pages += 1
            except urllib.error.HTTPError as exc:
                pages += 1 if exc.code < 500 else 0
        import os
        probe = f"import urllib.request; urllib.request.urlopen('{server.url}/healthz').read()"
        subprocess.run([sys.executable, "-c", probe], check=True, timeout=30,
                       env={**os.environ, **extra})    # the hook sees a (loopback) connect
        with urllib.request.urlopen(server.url + "/stream.mjpg", timeout=10) as r:
            r.read(20000)                                   # some MJPEG frames
        demo = subprocess.run(LABKIT + ["run", "face_led", "--demo"],
                              env=labkit_env(work / "demo-data", **extra), cwd=sys.argv[1],
                              capture_output=True, text=True, timeout=180)
    finally:
        server.stop()
    print(json.dumps({"pages": pages, "demo_rc": demo.returncode,
                      "demo_out": demo.stdout[-2000:] + demo.stderr[-2000:]}))
''')


def _loopback(target: str) -> bool:
    return any(host in target for host in ("'127.0.0.1'", "'::1'", "'localhost'")) or \
        target.startswith("'/")  # a Unix socket path


#: the kit's room announcement (docs/fleet.md): multicast DNS to the link-local group, which no
#: router forwards — it reaches the kits of the same network segment, never the internet
MDNS_GROUPS = ("('224.0.0.251', 5353)", "('ff02::fb', 5353")


def _mdns(event: list[Any]) -> bool:
    return event[0] == "socket.sendto" and event[1].startswith(MDNS_GROUPS)


def test_serve_and_a_lab_demo_make_no_connection_beyond_loopback(tmp_path: Path,
                                                                  model_store: Any) -> None:
    reason = netns_unavailable()
    if reason:
        pytest.skip(f"no network namespace here: {reason}")
    for name in ("data", "demo-data"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    (tmp_path / "hook").mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    result = run_offline([sys.executable, "-c", DRIVER, str(REPO), str(tmp_path)], timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["pages"] == 6
    assert summary["demo_rc"] == 0, summary["demo_out"]

    log = tmp_path / "connects.jsonl"
    events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    # the hook really ran in the server: it saw the server bind its port
    assert any(e[0] == "socket.bind" for e in events), events
    attempts = [e for e in events if e[0] != "socket.bind"]
    assert any(e[0] == "socket.connect" and "127.0.0.1" in e[1] for e in attempts), events
    outside = [a for a in attempts if a[0] in ("socket.connect", "socket.sendto")
               and not _loopback(a[1]) and not _mdns(a)]
    lookups = [a for a in attempts if a[0].startswith("socket.get") and not _loopback(a[1])
               and "None" not in a[1]]
    assert outside == [], outside
    assert lookups == [], lookups
    assert result.queries == [] and result.connections == []
    from tests.reliability.figures import record
    record("offline", {"connect_attempts_recorded": len(attempts),
                       "mdns_announcements": sum(_mdns(a) for a in attempts),
                       "non_loopback": len(outside) + len(lookups), "pages": summary["pages"],
                       "lab_demos": 1, "dns_queries": len(result.queries)})
