"""Tiny stand-in `labkit` wheels for update/playbook tests: seconds to install, no deps.

Each has a `labkit` console script with `doctor --json` and `serve --host H --port P`
(answering GET /healthz), and a `behaviour` that breaks one of them, so a test can build a good
and a bad new version. Wheels are plain zip files; writing one needs no build backend.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

CLI = '''
import json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

VERSION = {version!r}
BEHAVIOUR = {behaviour!r}


class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.path == "/healthz" and BEHAVIOUR != "unhealthy"
        self.send_response(200 if ok else 500)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({{"version": VERSION}}).encode())

    def log_message(self, *args):
        pass


def main():
    args = sys.argv[1:]
    if args[:1] == ["version"]:
        print(VERSION)
    elif args[:1] == ["doctor"]:
        ok = BEHAVIOUR != "doctor-fails"
        print(json.dumps({{"version": VERSION, "ok": ok, "findings": [
            {{"name": "python packages", "ok": ok, "required": True,
             "detail": "all present" if ok else "missing: cv2"}}]}}))
        sys.exit(0 if ok else 1)
    elif args[:1] == ["serve"]:
        if BEHAVIOUR == "crashes":
            sys.exit("ImportError: cannot import name 'create_app'")
        port = int(args[args.index("--port") + 1])
        HTTPServer(("127.0.0.1", port), Health).serve_forever()
    else:
        sys.exit(2)
'''


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(folder: Path, version: str, behaviour: str = "good",
                name: str = "labkit", requires: tuple[str, ...] = ()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"__version__ = {version!r}\n".encode(),
        f"{name}/cli.py": CLI.format(version=version, behaviour=behaviour).encode(),
        f"{info}/METADATA": (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                             "Provides-Extra: pi\n"
                             + "".join(f"Requires-Dist: {r}\n" for r in requires)).encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: fakewheel\nRoot-Is-Purelib: true\n"
                         b"Tag: py3-none-any\n",
        f"{info}/entry_points.txt": f"[console_scripts]\nlabkit = {name}.cli:main\n".encode(),
    }
    record = [_record_line(n, d) for n, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in files.items():
            zf.writestr(n, d)
    return path


def build_wheelhouse(folder: Path, version: str, behaviour: str = "good") -> Path:
    from labkit.provision.bundle import write_sums

    build_wheel(folder, version, behaviour)
    write_sums(folder)
    return folder
