"""The sandbox as an ordinary user runs it: a kit not started as root.

The other sandbox tests run as root (CI does), so the program drops to `nobody` there; a kit
started by an ordinary user takes another path — a user namespace for the network and the
private folders, or, where the kernel refuses user namespaces, the socket guard. Here the kit's
side itself runs as `nobody` (`unprivileged_kit.py`), once with user namespaces allowed and
once in a user namespace that may make no more (what a kernel with them switched off does),
and each time: the program runs and drives the kit's LED, the network is refused, the report
says which protection was in force, and writing outside its folder is refused.
"""

from __future__ import annotations

import json
import os
import grp
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest

from labkit.sandbox import landlock
from labkit.sandbox.runner import PACKAGE_ROOT

HARNESS = Path(__file__).with_name("unprivileged_kit.py")
SETUP_FAILED = 3          # unprivileged_kit.py could not make its mount namespace

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"),
    reason="becoming an unprivileged user needs root and setpriv (util-linux)")


def _nobody() -> tuple[int, int]:
    user = pwd.getpwnam("nobody")
    try:
        return user.pw_uid, grp.getgrnam("nogroup").gr_gid
    except KeyError:
        return user.pw_uid, user.pw_gid


@pytest.fixture
def kit_home() -> Iterator[Path]:
    """The kit user's home, with its data dir: outside /tmp, as on a kit (a program's /tmp is
    private, so a folder below it would prove nothing)."""
    parent = next((p for p in ("/run", "/srv", "/var/lib", "/home") if os.path.isdir(p)), None)
    if parent is None:
        pytest.skip("no folder outside /tmp to make the kit's home in")
    home = Path(tempfile.mkdtemp(prefix="labkit-test-home-", dir=parent))
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _run_as_nobody(tmp_path: Path, home: Path, programs: list[str], *,
                   userns: bool) -> list[dict[str, Any]]:
    uid, gid = _nobody()
    data = home / "data"
    data.mkdir()
    (data / "secret_key").write_text("s3cret-key")
    for path in (home, data, data / "secret_key"):
        os.chown(path, uid, gid)
    home.chmod(0o755)
    data.chmod(0o700)
    tmp_path.chmod(0o755)
    spec = {"package_root": str(PACKAGE_ROOT), "uid": uid, "gid": gid, "userns": userns,
            "data_dir": str(data), "programs": programs}
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(spec))
    proc = subprocess.run([sys.executable, "-I", str(HARNESS), str(spec_file)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    if proc.returncode == SETUP_FAILED:
        pytest.skip(f"cannot become an ordinary user in a mount namespace here: {proc.stdout}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def _programs(home: Path) -> list[str]:
    network = ("import socket\n"
               "for how in ('connect', 'resolve', 'udp'):\n"
               "    try:\n"
               "        if how == 'connect':\n"
               "            socket.create_connection(('1.1.1.1', 80), timeout=3)\n"
               "        elif how == 'resolve':\n"
               "            socket.getaddrinfo('example.com', 80)\n"
               "        else:\n"
               "            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
               "            s.sendto(b'x', ('1.1.1.1', 53))\n"
               "        print(how, 'allowed')\n"
               "    except OSError as exc:\n"
               "        print(how, 'refused', type(exc).__name__)\n")
    outside = "\n".join(
        f"try:\n    open({str(target)!r}, 'w').write('x')\n    print('wrote', {name!r})\n"
        f"except OSError as exc:\n    print('refused', {name!r}, type(exc).__name__)"
        for name, target in (("data", home / "data" / "evil.txt"),
                             ("kit home", home / "evil.txt")))
    outside += ("\ntry:\n    print('read', open(" + repr(str(home / "data" / "secret_key"))
                + ").read())\nexcept OSError as exc:\n    print('refused secret', "
                "type(exc).__name__)\n")
    return ["from gpiozero import LED\nimport os\nLED(17).on()\n"
            "open('own.txt', 'w').write('mine')\nprint(open('own.txt').read(), os.geteuid())\n",
            network, outside]


def _check(home: Path, reports: list[dict[str, Any]]) -> dict[str, Any]:
    """What holds on both paths; the protection reported, for the path's own checks."""
    uid, _gid = _nobody()
    first, network, outside = reports
    assert first["euid"] == uid                              # the kit itself was not root
    assert first["result"]["reason"] == "done", first["stderr"]
    assert first["stdout"] == [f"mine {uid}"] and first["led"] is True
    protection = first["result"]["protection"]
    assert protection["user"] == "same" and protection["no_new_privs"] is True
    assert [line.split()[:2] for line in network["stdout"]] == [
        ["connect", "refused"], ["resolve", "refused"], ["udp", "refused"]], network
    assert protection["landlock"] == landlock.abi_version()
    if protection["landlock"]:
        # the program runs as the kit's own user: only Landlock keeps it in its folder
        assert protection["writes"] == "own folder"
        # with the mount namespace the data dir is an empty read-only cover (EROFS, ENOENT);
        # without it Landlock refuses (EACCES)
        covered = protection["filesystem"] == "namespace"
        assert outside["stdout"] == [
            "refused data " + ("OSError" if covered else "PermissionError"),
            "refused kit home PermissionError",
            "refused secret " + ("FileNotFoundError" if covered else "PermissionError")], outside
        assert not (home / "data" / "evil.txt").exists() and not (home / "evil.txt").exists()
    else:     # a kernel without Landlock: the report must not claim more than permissions
        assert protection["writes"] == "permissions"
    return protection


def _kernel_lets_nobody_unshare() -> bool:
    """Whether this kernel gives an ordinary user a user (and network) namespace."""
    uid, gid = _nobody()
    return subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                           "--", "unshare", "--user", "--net", "true"],
                          capture_output=True, timeout=30).returncode == 0


def test_as_an_ordinary_user_with_user_namespaces(tmp_path: Path, kit_home: Path) -> None:
    reports = _run_as_nobody(tmp_path, kit_home, _programs(kit_home), userns=True)
    protection = _check(kit_home, reports)
    if not _kernel_lets_nobody_unshare():
        # this kernel refuses them to ordinary users: the fallback is what must be in force
        assert protection["network"] == "guard"
        assert [line.split()[2] for line in reports[1]["stdout"]] == ["Refused"] * 3
        return
    assert protection["network"] == "namespace" and protection["filesystem"] == "namespace"
    # a connection fails in the empty namespace, before any guard is asked
    assert [line.split()[2] for line in reports[1]["stdout"]] == [
        "PermissionError" if protection["landlock"] >= 4 else "OSError", "gaierror", "OSError"]


def test_as_an_ordinary_user_where_the_kernel_refuses_user_namespaces(
        tmp_path: Path, kit_home: Path) -> None:
    reports = _run_as_nobody(tmp_path, kit_home, _programs(kit_home), userns=False)
    protection = _check(kit_home, reports)
    # the kernel refused the program's namespaces: the socket guard refused each attempt
    assert protection["network"] == "guard"
    assert protection["filesystem"] == ("landlock" if protection["landlock"] else "permissions")
    assert [line.split()[2] for line in reports[1]["stdout"]] == ["Refused"] * 3
