"""Cold start: exec of `labkit serve` → first 200 on /healthz, and the CPU-seconds it took.

Baseline in the same run: a minimal Flask app (one /healthz route) under waitress with cv2 and
numpy imported — what any camera web page in Python pays. Runs alternate A B A B …; the figure
to quote is the median ratio. Each pair runs twice: as this machine runs Python (`as_run`: with
PYTHONDONTWRITEBYTECODE set and a venv installed --no-compile, every start compiles every module
again) and with a bytecode cache filled by the warm-up round (`bytecode_cached`: as on a kit
whose install compiled its modules). After the first 200 the kit's home page and a lab page are
fetched at once, and in a second start 1.5 s later (what a child opening the kit then waits).
Also times `import labkit.vision` / `import labkit.drivers` (what a student program pays)
against `import cv2, numpy`.

    python -m bench.coldstart            # prints and writes bench/results/coldstart.json
    python -m bench.coldstart --once     # one labkit start (for an external timer)
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import write_result
from tests.helpers import LABKIT, REPO, free_port, labkit_env

BASELINE_APP = """
import sys, cv2, numpy
from flask import Flask, jsonify
from waitress import serve
app = Flask("baseline")
@app.get("/healthz")
def healthz():
    return jsonify(status="ok")
serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=4)
"""

HEAVY = ("scipy", "sklearn", "skl2onnx", "onnx", "onnxruntime", "ai_edge_litert")


def start_once(cmd: list[str], env: dict[str, str], port: int, timeout: float = 60.0,
               pages: tuple[str, ...] = (), pause: float = 0.0) -> dict[str, float]:
    """Wall time to the first 200 on /healthz and the server's CPU-seconds up to then; then
    each of `pages` fetched `pause` seconds later, one after the other (seconds each: what a
    child opening the kit that long after it answered waits)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=str(REPO), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/healthz"
    wall = float("nan")
    try:
        while time.perf_counter() - t0 < timeout and proc.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        wall = time.perf_counter() - t0
                        break
            except OSError:
                time.sleep(0.01)
        cpu = _cpu_seconds(proc.pid)
        if pages and wall == wall:
            time.sleep(pause)
        page_s = {path: _fetch_s(f"http://127.0.0.1:{port}{path}") for path in pages
                  if wall == wall}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return {"wall_s": wall, "cpu_s": cpu, **{f"page {p} s": v for p, v in page_s.items()}}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _fetch_s(url: str) -> float:
    """Seconds until `url` answered (a redirect counts as the answer: a lab page sends a
    visitor without a session to pick a class, after reading the curriculum)."""
    opener = urllib.request.build_opener(_NoRedirect)
    t0 = time.perf_counter()
    try:
        with opener.open(url, timeout=30) as r:
            r.read()
    except urllib.error.HTTPError as exc:
        if exc.code >= 400:
            return float("nan")
    return time.perf_counter() - t0


def _cpu_seconds(pid: int) -> float:
    """user+sys CPU of a live process so far (from /proc, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def import_cost(code: str) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=str(REPO), check=True,
                   env={**os.environ, "PYTHONPATH": str(REPO)})
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"wall_s": wall, "cpu_s": (after.ru_utime - before.ru_utime)
            + (after.ru_stime - before.ru_stime)}


def heavy_modules_after_start() -> list[str]:
    code = ("import sys; from labkit.web import create_app; app = create_app(); "
            "c = app.test_client(); c.get('/healthz'); c.get('/'); "
            f"print(','.join(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    with tempfile.TemporaryDirectory() as tmp:
        env = labkit_env(Path(tmp) / "data")
        env["PYTHONPATH"] = str(REPO)
        out = subprocess.run([sys.executable, "-c", code], cwd=str(REPO), env=env,
                             capture_output=True, text=True, check=True).stdout.strip()
    return [m for m in out.split(",") if m]


def med(runs: list[dict[str, float]], key: str) -> float:
    return round(statistics.median(r.get(key, float("nan")) for r in runs), 3)


PAGES = ("/", "/labs/bias_lab")
# the first pages are also timed in a second start, this long after the first 200: a child
# typing the kit's address or a kiosk browser coming up (the kit prepares them once it listens)
PAGE_PAUSE_S = 1.5
MODES = ("as_run", "bytecode_cached")


def _mode_env(env: dict[str, str], mode: str, tmp: Path) -> dict[str, str]:
    """`as_run`: the interpreter as this machine runs it (with PYTHONDONTWRITEBYTECODE set or a
    read-only install, every start compiles every module again). `bytecode_cached`: compiled
    modules kept in a cache filled by the warm-up round, as on a kit whose install compiled
    them (pip does by default; images/install-labkit.sh)."""
    if mode == "as_run":
        return env
    cached = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return cached


def _summary(labkit_runs: list[dict[str, float]], base_runs: list[dict[str, float]],
             later_runs: list[dict[str, float]]) -> dict[str, Any]:
    pairs = [{"wall": a["wall_s"] / b["wall_s"], "cpu": a["cpu_s"] / max(b["cpu_s"], 1e-3)}
             for a, b in zip(labkit_runs, base_runs, strict=True)]
    return {
        "labkit_serve": {"wall_s_median": med(labkit_runs, "wall_s"),
                         "cpu_s_median": med(labkit_runs, "cpu_s"),
                         **{f"page_{p}_s_median": med(labkit_runs, f"page {p} s") for p in PAGES},
                        **{f"page_{p}_after_pause_s_median": med(later_runs, f"page {p} s")
                           for p in PAGES},
                         "runs": labkit_runs},
        "baseline_flask_waitress_cv2": {"wall_s_median": med(base_runs, "wall_s"),
                                        "cpu_s_median": med(base_runs, "cpu_s")},
        "ratio_wall_median": round(statistics.median(p["wall"] for p in pairs), 3),
        "ratio_cpu_median": round(statistics.median(p["cpu"] for p in pairs), 3),
    }


def main(quick: bool = False) -> dict[str, Any]:
    rounds = 3 if quick else 7
    by_mode: dict[str, tuple[list[dict[str, float]], ...]] = {
        mode: ([], [], []) for mode in MODES}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(rounds + 1):  # the first round warms the page and bytecode caches
            for mode in MODES:
                port = free_port()
                env = labkit_env(Path(tmp) / f"data-{mode}", LABKIT_PORT=str(port))
                env["PYTHONPATH"] = str(REPO)
                env = _mode_env(env, mode, Path(tmp))
                a = start_once(LABKIT + ["serve"], env, port, pages=PAGES)
                port = free_port()
                b = start_once([sys.executable, "-c", BASELINE_APP, str(port)], env, port)
                port = free_port()
                env["LABKIT_PORT"] = str(port)
                later = start_once(LABKIT + ["serve"], env, port, pages=PAGES, pause=PAGE_PAUSE_S)
                if i:
                    for kept, run in zip(by_mode[mode], (a, b, later), strict=True):
                        kept.append(run)
    imports = {}
    for name, code in {"labkit.vision": "import labkit.vision",
                       "labkit.drivers": "import labkit.drivers",
                       "baseline cv2+numpy": "import cv2, numpy"}.items():
        runs = [import_cost(code) for _ in range(rounds)]
        imports[name] = {"wall_s": med(runs, "wall_s"), "cpu_s": med(runs, "cpu_s")}
    base_import = imports["baseline cv2+numpy"]["wall_s"]
    result = {
        "quick": quick, "rounds": rounds,
        "env_writes_bytecode": not sys.flags.dont_write_bytecode,
        **_summary(*by_mode["as_run"]),
        "bytecode_cached": _summary(*by_mode["bytecode_cached"]),
        "imports": imports,
        "import_ratio_to_cv2_numpy": {k: round(v["wall_s"] / base_import, 3)
                                      for k, v in imports.items()},
        "heavy_modules_loaded_by_first_page": heavy_modules_after_start(),
        "goals": {"cold_start_s": "<= 1.0 on an idle machine",
                  "import labkit.vision / drivers": "<= 0.3 s"},
    }
    for mode, part in (("as run", result), ("bytecode cached", result["bytecode_cached"])):
        kit = part["labkit_serve"]
        print(f"[{mode}] labkit serve → 200: {kit['wall_s_median']} s, {kit['cpu_s_median']} "
              f"CPU-s; baseline {part['baseline_flask_waitress_cv2']['wall_s_median']} s, "
              f"{part['baseline_flask_waitress_cv2']['cpu_s_median']} CPU-s; ratio "
              f"{part['ratio_wall_median']} (cpu {part['ratio_cpu_median']}); then "
              + ", ".join(f"GET {p} {kit[f'page_{p}_s_median']} s" for p in PAGES)
              + f"; {PAGE_PAUSE_S} s later: "
              + ", ".join(f"GET {p} {kit[f'page_{p}_after_pause_s_median']} s" for p in PAGES))
    print("imports:", imports)
    write_result("coldstart", result)
    return result


if __name__ == "__main__":
    if "--once" in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            env = labkit_env(Path(tmp) / "data", LABKIT_PORT=str(port))
            env["PYTHONPATH"] = str(REPO)
            print(start_once(LABKIT + ["serve"], env, port))
    else:
        main(quick="--quick" in sys.argv)
