"""A room of kits: push a signed lab pack to N kits and collect their portfolios, against
copying the same bytes as plain files in the same run.

N = 1 and 10 `labkit serve` processes on 127.0.0.1 only (own ports and data dirs), paired
with this process acting as the lead kit (the same RoomClient the teacher's room page uses, code read
from each kit's own pairing page). For each N:

- push: a pack with one media file of `--mb` MB (random bytes, seeded) to all N kits — signed
  request, streamed upload, each kit verifying the signature and every hash, then installing.
  Baseline: `cp` of the same .labpack to N folders, one `cp` process per folder, in the
  same run (what copying the bytes to each kit's disk costs without any network or checks).
- collect: every kit's records (classes, students, runs with scores), merged into the room
  export. Baseline: copying the same JSON bytes from N files.

Writes bench/results/fleet.json; ratios are labkit ÷ baseline (> 1: slower than a bare copy,
which is expected — the figure shows what the checks and HTTP cost).

    python -m bench.fleet            # 50 MB pack, N = 1 and 10, two repeats
    python -m bench.fleet --quick    # 5 MB pack, N = 1 and 3, once
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from bench.common import write_result
from labkit.fleet.client import RoomClient
from labkit.fleet.records import merge
from labkit.fleet.state import RoomState
from labkit.packs import labpack, signing
from labkit.projects.discovery import PACKAGE_LABS
from labkit.store import Store
from tests.helpers import LiveServer, start_server

STUDENTS_PER_KIT = 40


def _pack(where: Path, key: Path, version: str, mb: int) -> Path:
    src = where / f"src-{version}"
    shutil.copytree(PACKAGE_LABS / "experience" / "clap_lamp",
                    src / "labs" / "experience" / "bench_clap_lamp")
    (src / "media").mkdir()
    rng = random.Random(int(version.replace(".", "")))
    (src / "media" / "film.bin").write_bytes(rng.randbytes(mb * 1024 * 1024))
    (src / labpack.SOURCE_FILE).write_text(json.dumps(
        {"id": "bench-pack", "version": version, "title": "bench", "min_labkit": "0.1.0"}))
    out = labpack.build_pack(src, key, where / "usb")
    shutil.rmtree(src)
    return out


def _seed(data: Path, kit_no: int) -> None:
    """A class of 40 with one finished run each (what a kit holds after a lesson)."""
    store = Store(data)
    try:
        cls = store.roster.add_class(f"班{kit_no}")
        kids = store.roster.add_students(cls.id, [f"学生{i}" for i in range(STUDENTS_PER_KIT)])
        for kid in kids:
            run = store.runs.start(kid.id, lesson_id="clap_lamp", project_id="clap_lamp",
                                   steps_total=2)
            store.runs.record_step(run, "clap", "clap_heard")
            store.runs.end(run, "finished")
    finally:
        store.close()


def _pair(lead: RoomClient, kit: LiveServer) -> str:
    started = lead.start_pairing(kit.url)
    shown = requests.get(kit.url + "/room/pairing?format=json", timeout=60).json()["pairing"]
    return lead.confirm_pairing(kit.url, shown["code"], started["challenge"])["kit_id"]


def _copy_baseline(src: Path, n: int, where: Path) -> float:
    targets = [where / f"copy{i}" for i in range(n)]
    for t in targets:
        t.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for t in targets:
        subprocess.run(["cp", "--", str(src), str(t / src.name)], check=True)
    took = time.perf_counter() - t0
    for t in targets:
        shutil.rmtree(t)
    return took


def main(quick: bool = False) -> dict[str, Any]:
    mb = 5 if quick else 50
    sizes = (1, 3) if quick else (1, 10)
    repeats = 1 if quick else 2
    with tempfile.TemporaryDirectory(prefix="labkit-bench-fleet-") as tmp_name:
        tmp = Path(tmp_name)
        key = tmp / "keys" / "publisher.key"
        pub = signing.public_text(signing.generate(key))
        datas = []
        for i in range(max(sizes)):
            data = tmp / f"kit{i}" / "data"
            data.mkdir(parents=True)
            labpack.add_trusted_key(data, pub)
            _seed(data, i)
            datas.append(data)
        t0 = time.perf_counter()
        with ThreadPoolExecutor(len(datas)) as pool:
            servers = list(pool.map(lambda d: start_server(d, timeout=180), datas))
        started_s = time.perf_counter() - t0
        try:
            state = RoomState(tmp / "lead")
            lead = RoomClient(state, kit_id="bench-lead", name="bench")
            kit_ids = [_pair(lead, s) for s in servers]
            rows = []
            version = 0
            for n in sizes:
                chosen = kit_ids[:n]
                push_s, copy_s, collect_s, collect_copy_s = [], [], [], []
                for _ in range(repeats):
                    version += 1
                    pack = _pack(tmp, key, f"1.0.{version}", mb)
                    pack_bytes = pack.stat().st_size
                    t = time.perf_counter()
                    results = lead.push_pack(pack, chosen)
                    push_s.append(time.perf_counter() - t)
                    failed = [r.as_dict() for r in results if not r.ok]
                    if failed:
                        raise RuntimeError(f"push failed: {failed}")
                    copy_s.append(_copy_baseline(pack, n, tmp))
                    pack.unlink()

                    t = time.perf_counter()
                    results = lead.collect(chosen)
                    merged = merge(state.collected())
                    collect_s.append(time.perf_counter() - t)
                    if any(not r.ok for r in results) or len(merged) < n * STUDENTS_PER_KIT:
                        raise RuntimeError("collect failed")
                    files = sorted(state.collected_dir().glob("*.json"))
                    t = time.perf_counter()
                    for f in files:
                        shutil.copyfile(f, tmp / f"collect-copy-{f.name}")
                    collect_copy_s.append(time.perf_counter() - t)
                push, copy = statistics.median(push_s), statistics.median(copy_s)
                col, col_copy = statistics.median(collect_s), statistics.median(collect_copy_s)
                rows.append({
                    "kits": n, "pack_mb": mb, "pack_bytes": pack_bytes,
                    "push_s": round(push, 3),
                    "copy_baseline_s": round(copy, 4),
                    "ratio_push_vs_copy": round(push / copy, 1) if copy > 0 else None,
                    "push_mb_per_s": round(mb * n / push, 1),
                    "collect_s": round(col, 3), "collect_runs": n * STUDENTS_PER_KIT,
                    "collect_copy_baseline_s": round(col_copy, 5),
                    "ratio_collect_vs_copy": round(col / col_copy, 1) if col_copy > 0 else None,
                })
                print(json.dumps(rows[-1]), flush=True)
        finally:
            for s in servers:
                s.stop()
    result = {"quick": quick, "kits_started_in_s": round(started_s, 1), "repeats": repeats,
              "rows": rows}
    write_result("fleet", result)
    return result


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
