"""Run the sandbox's kit side as an ordinary user, the way a kit not started as root does.

    python unprivileged_kit.py SPEC.json        (as root; prints one JSON line per program)

The tests run as root, so without this the path an ordinary user takes (a user namespace for
the network, or the socket guard where the kernel refuses user namespaces) would never run.
As root, in a mount namespace of its own, the interpreter is made reachable for the user (it
may live below `/root`: `boot.expose`, the same code the root path uses), and with `"userns":
false` a user namespace is entered whose limit of nested user namespaces is 0, so the kernel
refuses the program's `unshare(CLONE_NEWUSER)` as a kernel with them switched off does. Then
`setpriv` becomes the user and this file runs again as the kit (`--kit`): a simulated pin
factory, the kit's side of the socket, the real `Sandbox`, and the programs of the spec.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_REC = 16384
MS_PRIVATE = 1 << 18
SETUP_FAILED = 3


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _unshare(flags: int) -> None:
    if _libc().unshare(ctypes.c_int(flags)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"unshare: {os.strerror(err)}")


def _own_user_namespace(uid: int, gid: int) -> None:
    """A user namespace mapping root and the user, in which no more may be made.

    Only a privileged process may write a map of more than the writer's own id, so a forked
    helper (still root outside) writes ours once we have unshared."""
    ready_r, ready_w = os.pipe()
    done_r, done_w = os.pipe()
    parent = os.getpid()
    helper = os.fork()
    if helper == 0:
        os.read(ready_r, 1)
        for name, own in (("uid_map", uid), ("gid_map", gid)):
            with open(f"/proc/{parent}/{name}", "w") as f:
                f.write(f"0 0 1\n{own} {own} 1\n")
        os.write(done_w, b"x")
        os._exit(0)
    _unshare(CLONE_NEWUSER | CLONE_NEWNS)
    os.write(ready_w, b"x")
    os.read(done_r, 1)
    os.waitpid(helper, 0)
    with open("/proc/sys/user/max_user_namespaces", "w") as f:
        f.write("0")


def become_user(spec: dict) -> None:
    sys.path.insert(0, spec["package_root"])
    from labkit.sandbox import boot
    from labkit.sandbox.runner import interpreter_paths

    try:
        if spec["userns"]:
            _unshare(CLONE_NEWNS)
        else:
            _own_user_namespace(spec["uid"], spec["gid"])
        if _libc().mount(b"none", b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None) != 0:
            raise OSError(ctypes.get_errno(), "mount --make-rprivate /")
        boot.expose(interpreter_paths())
    except OSError as exc:    # a container without CAP_SYS_ADMIN: this harness cannot run
        print(json.dumps({"setup_error": str(exc)}), flush=True)
        sys.exit(SETUP_FAILED)
    os.execv("/usr/bin/setpriv", [
        "setpriv", f"--reuid={spec['uid']}", f"--regid={spec['gid']}", "--clear-groups", "--",
        sys.executable, "-I", os.path.abspath(__file__), "--kit", json.dumps(spec)])


def kit(spec: dict) -> None:
    sys.path.insert(0, spec["package_root"])
    from labkit.drivers.gpio import SimPinFactory
    from labkit.drivers.pins import Holder, Pins
    from labkit.sandbox.limits import MB, Limits
    from labkit.sandbox.link import KitLink
    from labkit.sandbox.runner import Sandbox

    factory = SimPinFactory()
    link = KitLink(factory, Pins())
    sandbox = Sandbox(link, hide=[spec["data_dir"]], limits=Limits(
        wall_seconds=20, cpu_seconds=20, memory_bytes=512 * MB, processes=32))
    try:
        for source in spec["programs"]:
            run = sandbox.start(source, Holder("program:1", "program", "小明"))
            result = run.wait(60) or {}
            print(json.dumps({
                "euid": os.geteuid(), "result": result,
                "stdout": [e["text"] for e in run.events if e["type"] == "stdout"],
                "stderr": [e["text"] for e in run.events if e["type"] == "stderr"],
                "led": any(s.state for s in factory.pin(17).states)}), flush=True)
    finally:
        sandbox.stop_all()
        link.close()


if __name__ == "__main__":
    if sys.argv[1] == "--kit":
        kit(json.loads(sys.argv[2]))
    else:
        with open(sys.argv[1]) as f:
            become_user(json.load(f))
