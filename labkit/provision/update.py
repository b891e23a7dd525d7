"""`labkit update FILE`: install a new labkit from a wheelhouse on a USB stick, offline.

Each version lives in its own venv side by side, and one symlink says which one runs:

    /opt/labkit/venvs/0.1.0/     the version the image shipped
    /opt/labkit/venvs/0.2.0/     the new one, built next to it from the stick
    /opt/labkit/current  -> venvs/0.2.0      what labkit.service starts
    /opt/labkit/previous -> venvs/0.1.0      where a rollback goes back to

An update never touches the running version until the new one has passed its health check
(`labkit doctor --json` reports ok, and `labkit serve` answers /healthz) against a *copy* of
the kit's database, so a migration that breaks is found on the copy. Then the database is
backed up, the symlink is swapped atomically and the service restarted; if the restarted kit
does not answer /healthz, the old symlink and the backed-up database come back and the old
version is restarted. Students' data (the data dir) is never inside a venv, so switching
versions keeps it. The Ansible role uses the same layout.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from labkit.errors import LabkitError
from labkit.provision.bundle import constraints_for, find_wheel, unpack, verify_folder

log = logging.getLogger(__name__)

DEFAULT_PREFIX = Path("/opt/labkit")
DB_NAME = "labkit.sqlite3"
STATE_NAME = "provision/update.json"
HEALTH_TIMEOUT = 90.0
KEEP_BACKUPS = 3


class UpdateError(LabkitError):
    def __init__(self, message: str, *, fix: str = "", code: str = "update_failed") -> None:
        super().__init__(message, fix=fix, code=code)


@dataclass(frozen=True)
class Layout:
    """Where the versions live (`prefix`), as the image and the Ansible role lay it out."""

    prefix: Path = DEFAULT_PREFIX

    @property
    def venvs(self) -> Path:
        return self.prefix / "venvs"

    @property
    def current(self) -> Path:
        return self.prefix / "current"

    @property
    def previous(self) -> Path:
        return self.prefix / "previous"

    def venv(self, version: str) -> Path:
        return self.venvs / version

    def version_of(self, link: Path) -> str | None:
        try:
            return Path(os.readlink(link)).name
        except OSError:
            return None

    def point(self, link: Path, version: str) -> None:
        """Swap a symlink atomically (a power cut leaves the old or the new one, never none)."""
        tmp = link.with_name(f".{link.name}.tmp")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(Path("venvs") / version)
        os.replace(tmp, link)
        fd = os.open(link.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class UpdateResult:
    status: str          # updated | unchanged | rejected | rolled_back | unhealthy
    old_version: str | None
    new_version: str
    problems: list[str] = field(default_factory=list)
    backup: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {"status": self.status, "old_version": self.old_version,
                "new_version": self.new_version, "problems": self.problems,
                "backup": self.backup}


def clean_pip_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment for an offline pip: no config files, no extra indexes or find-links,
    and no PYTHONPATH (a checkout on it would shadow the version being installed)."""
    out = {k: v for k, v in env.items()
           if not k.startswith("PIP_") and k not in ("PYTHONPATH", "PYTHONHOME")}
    out["PIP_CONFIG_FILE"] = os.devnull
    out["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    out["PIP_NO_INPUT"] = "1"
    return out


def base_python(layout: Layout) -> str:
    """The interpreter the current venv was made from (same minor version for the new one)."""
    cfg = layout.current / "pyvenv.cfg"
    try:
        for line in cfg.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "home":
                for name in ("python3", "python"):
                    exe = Path(value.strip()) / name
                    if exe.exists():
                        return str(exe)
    except OSError:
        pass
    return getattr(sys, "_base_executable", sys.executable)


def system_site_packages(layout: Layout) -> bool:
    """Keep the current venv's choice: on a Pi it sees apt's picamera2/gpiozero/lgpio."""
    try:
        text = (layout.current / "pyvenv.cfg").read_text()
    except OSError:
        return platform.machine() == "aarch64"
    return "include-system-site-packages = true" in text


def build_venv(target: Path, wheelhouse: Path, requirement: str, *, python: str,
               system_site: bool, env: Mapping[str, str]) -> None:
    """A fresh venv at `target` with `requirement` installed from the wheelhouse only.

    The running interpreter's pip installs into it (`pip --python`): no second copy of pip is
    unpacked into every version's venv, which on a Pi's SD card takes longer than the update.
    """
    own_pip = importlib.util.find_spec("pip") is not None
    cmd = [python, "-m", "venv", *(["--system-site-packages"] if system_site else []),
           *(["--without-pip"] if own_pip else []), str(target)]
    _checked(cmd, env, "could not create a venv", timeout=300)
    new_python = str(target / "bin" / "python")
    pip = ([sys.executable, "-m", "pip", "--python", new_python] if own_pip
           else [new_python, "-m", "pip"])
    pins = constraints_for(wheelhouse, platform.machine(), _python_tag(new_python, env))
    pip += ["install", "--no-index", "--find-links", str(wheelhouse), "--no-cache-dir",
            *(["--constraint", str(pins)] if pins else []), "--", requirement]
    _checked(pip, clean_pip_env(env), "could not install from the wheelhouse", timeout=1800)


def _python_tag(python: str, env: Mapping[str, str]) -> str:
    """"311" for a Python 3.11 interpreter."""
    proc = subprocess.run([python, "-c", "import sys; print('%d%d' % sys.version_info[:2])"],
                          env=dict(env), capture_output=True, text=True, timeout=60)
    return proc.stdout.strip()


def _checked(cmd: list[str], env: Mapping[str, str], what: str, *, timeout: float) -> None:
    try:
        proc = subprocess.run(cmd, env=dict(env), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        raise UpdateError(f"{what}: it took longer than {timeout:.0f} s",
                          fix="try again; if it repeats, check the SD card") from None
    if proc.returncode != 0:
        tail = [x for x in (proc.stderr or proc.stdout).splitlines() if x.strip()][-3:]
        raise UpdateError(f"{what}: " + " | ".join(tail),
                          fix="make the wheelhouse again for this kit's Python and CPU")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, timeout: float, *, alive: Callable[[], bool] = lambda: True) -> str:
    """'' once `url` answers 200, else why not (timeout, or the process ended)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if not alive():
            return "the server stopped before it answered"
        try:
            with urllib.request.urlopen(url, timeout=3) as resp:
                if resp.status == 200:
                    return ""
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
        time.sleep(0.25)
    return f"{url} did not answer within {timeout:.0f} s ({last})"


def copy_database(src_dir: Path, dst_dir: Path) -> Path | None:
    """A consistent copy of the kit's SQLite database (the backup API, safe while in use)."""
    src = src_dir / DB_NAME
    if not src.exists():
        return None
    dst_dir.mkdir(parents=True, exist_ok=True)
    dst = dst_dir / DB_NAME
    with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return dst


def health_check(venv: Path, data_dir: Path, *, env: Mapping[str, str],
                 timeout: float = HEALTH_TIMEOUT) -> list[str]:
    """Run the new version against a scratch copy of the data; [] when healthy."""
    exe = venv / "bin" / "labkit"
    if not exe.exists():
        return [f"{exe} is missing"]
    with tempfile.TemporaryDirectory(prefix="labkit-health-") as scratch:
        check_dir = Path(scratch) / "data"
        check_dir.mkdir()
        copy_database(data_dir, check_dir)
        for shared in ("models", "wiring.yaml"):
            if (data_dir / shared).exists():
                (check_dir / shared).symlink_to(data_dir / shared)
        check_env = {**{k: v for k, v in env.items() if k not in ("PYTHONPATH", "PYTHONHOME")},
                     "LABKIT_DATA": str(check_dir), "LABKIT_HARDWARE": "sim",
                     "LABKIT_CAMERA": "synthetic", "LABKIT_MICROPHONE": "simulated"}
        try:
            proc = subprocess.run([str(exe), "doctor", "--json"], env=check_env,
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return [f"labkit doctor did not finish within {timeout:.0f} s"]
        try:
            report = json.loads(proc.stdout)
        except ValueError:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            return [f"labkit doctor --json printed no report ({tail[0]})"]
        if not report.get("ok"):
            bad = [f"{f.get('name')}: {f.get('detail')}" for f in report.get("findings", [])
                   if not f.get("ok") and f.get("required")]
            return ["labkit doctor reports a problem: " + ("; ".join(bad) or "not ok")]
        port = free_port()
        server = subprocess.Popen([str(exe), "serve", "--host", "127.0.0.1", "--port",
                                   str(port)], env=check_env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
        try:
            why = wait_healthy(f"http://127.0.0.1:{port}/healthz", timeout,
                               alive=lambda: server.poll() is None)
        finally:
            server.terminate()
            try:
                _, err = server.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                _, err = server.communicate()
        if why:
            tail = [x for x in (err or "").splitlines() if x.strip()][-1:]
            return [f"labkit serve: {why}" + (f" — {tail[0]}" if tail else "")]
    return []


def prune(layout: Layout, keep: set[str]) -> None:
    """Remove venvs that are neither current nor previous (an SD card is small)."""
    if not layout.venvs.is_dir():
        return
    for path in layout.venvs.iterdir():
        if path.is_dir() and path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


def _backup_number(path: Path) -> int:
    head = path.name.split("-", 1)[0]
    return int(head) if head.isdigit() else -1


def next_backup_dir(folder: Path, version: str) -> Path:
    """`backups/<n>-before-<version>`: numbered, because a kit's wall clock may be wrong."""
    existing = [_backup_number(p) for p in folder.iterdir()] if folder.is_dir() else []
    return folder / f"{max(existing, default=0) + 1:04d}-before-{version}"


def prune_backups(folder: Path, keep: int = KEEP_BACKUPS) -> None:
    """Keep the newest few pre-update database copies."""
    copies = sorted((p for p in folder.iterdir() if p.is_dir() and _backup_number(p) >= 0),
                    key=_backup_number)
    for old in copies[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def record(data_dir: Path, result: UpdateResult) -> None:
    from labkit.fsutil import atomic_write_text

    path = data_dir / STATE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {**result.to_dict(), "recorded_at": time.time()}
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=1))
    match_owner(path.parent, data_dir)
    match_owner(path, data_dir)


def update(bundle: Path, *, layout: Layout, data_dir: Path, project: str = "labkit",
           extras: str | None = None, python: str | None = None, force: bool = False,
           restart: Callable[[], None] | None = None,
           live_check: Callable[[], str] | None = None,
           env: Mapping[str, str] | None = None,
           health_timeout: float = HEALTH_TIMEOUT) -> UpdateResult:
    """Install the bundle's labkit beside the current one; switch only if it is healthy.

    `restart` restarts the kit's service after the switch and `live_check` returns '' when the
    restarted kit answers (or why not); without them (tests, a kit without systemd) the
    switch is the last step.
    """
    env = dict(os.environ if env is None else env)
    try:
        layout.venvs.mkdir(parents=True, exist_ok=True)
        probe = layout.prefix / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UpdateError(f"cannot write to {layout.prefix} ({exc.strerror})",
                          fix="run it as root: sudo labkit update FILE",
                          code="not_permitted") from None
    with tempfile.TemporaryDirectory(prefix=".unpack-", dir=layout.prefix) as scratch:
        folder = unpack(bundle, Path(scratch))
        verified = verify_folder(folder)
        new_version, _wheel = find_wheel(verified, project)
        old_version = layout.version_of(layout.current)
        if old_version == new_version and not force:
            return UpdateResult("unchanged", old_version, new_version)
        if extras is None:
            extras = "pi" if platform.machine() == "aarch64" else ""
        requirement = f"{project}[{extras}]=={new_version}" if extras else \
            f"{project}=={new_version}"
        name = new_version
        if name in (old_version, layout.version_of(layout.previous)):
            name = f"{new_version}-{time.strftime('%Y%m%d%H%M%S')}"   # a forced reinstall
        target = layout.venv(name)
        shutil.rmtree(target, ignore_errors=True)       # a leftover of an interrupted try
        try:
            build_venv(target, folder, requirement, python=python or base_python(layout),
                       system_site=system_site_packages(layout), env=env)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
    problems = health_check(target, data_dir, env=env, timeout=health_timeout)
    if problems:
        shutil.rmtree(target, ignore_errors=True)
        result = UpdateResult("rejected", old_version, new_version, problems)
        record(data_dir, result)
        return result
    backup = None
    if (data_dir / DB_NAME).exists():
        backup_dir = next_backup_dir(data_dir / "backups", new_version)
        backup = str(copy_database(data_dir, backup_dir))
        for made in (backup_dir.parent, backup_dir, Path(backup)):
            match_owner(made, data_dir)
        prune_backups(backup_dir.parent)
    previous_before = layout.version_of(layout.previous)
    if old_version:
        layout.point(layout.previous, old_version)
    layout.point(layout.current, name)
    result = UpdateResult("updated", old_version, new_version, backup=backup)
    if restart is not None:
        restart()
        why = live_check() if live_check is not None else ""
        if why and old_version:
            layout.point(layout.current, old_version)
            if previous_before:
                layout.point(layout.previous, previous_before)
            if backup:
                restore_database(Path(backup), data_dir)
            restart()
            result = UpdateResult("rolled_back", old_version, new_version, [why], backup)
        elif why:
            result = UpdateResult("unhealthy", old_version, new_version, [why], backup)
    keep = {v for v in (layout.version_of(layout.current), layout.version_of(layout.previous))
            if v}
    if result.status == "rolled_back":
        keep.add(name)             # kept for a look at what went wrong; pruned next time
    prune(layout, keep)
    record(data_dir, result)
    return result


def match_owner(path: Path, like: Path) -> None:
    """Give files written by root (sudo labkit update) to the data dir's owner (labkit)."""
    if os.geteuid() != 0:
        return
    try:
        st = like.stat()
        os.chown(path, st.st_uid, st.st_gid)
    except OSError:
        pass


def restore_database(backup: Path, data_dir: Path) -> None:
    """Put the pre-update database back (the new version may have migrated it)."""
    for suffix in ("-wal", "-shm"):
        (data_dir / (DB_NAME + suffix)).unlink(missing_ok=True)
    tmp = data_dir / (DB_NAME + ".restore")
    shutil.copyfile(backup, tmp)
    match_owner(tmp, data_dir)
    os.replace(tmp, data_dir / DB_NAME)


def systemd_restart(unit: str) -> Callable[[], None]:
    def restart() -> None:
        subprocess.run(["systemctl", "restart", unit], check=False, timeout=120)
    return restart


def live_probe(port: int, timeout: float = HEALTH_TIMEOUT) -> Callable[[], str]:
    return lambda: wait_healthy(f"http://127.0.0.1:{port}/healthz", timeout)
