"""The first code a student program's process runs: shut the doors, then run the program.

Started by `labkit.sandbox.runner` as `python -I -u boot.py` with its settings in the
environment (`LABKIT_SANDBOX`, JSON made by the kit — never the student's text) and the
program in `main.py` of its own working directory. In this order, before one line of the
program runs:

1. a network namespace of its own (no interfaces but a loopback that is down) and a mount
   namespace in which /tmp, /var/tmp and /dev/shm are private and empty and the kit's data
   dir is covered by an empty read-only folder — `unshare(2)` through libc; as an ordinary
   user inside a new user namespace. Where the kernel refuses, an audit hook refuses
   sockets other than AF_UNIX instead (the report says which protection is in force);
2. when started as root: drop to the unprivileged user named in the settings (`nobody`);
3. PR_SET_NO_NEW_PRIVS, so no setuid program can give the privileges back;
   then Landlock (`labkit.sandbox.landlock`, where the kernel has it): writes only in the
   program's folder (and the private temp folders), no TCP, no signals to the kit; without
   the mount namespace it also keeps the kit's data dir unreadable — the program runs as the
   kit's own user there, and file permissions alone would let it read and write the kit's files;
4. rlimits: CPU, address space, file size, processes, open files, no core files;
5. an audit hook that refuses ctypes calls and raw memory access (poking the interpreter);
6. gpiozero's pin factory forwards to the kit over the inherited socket
   (`labkit.sandbox.kitpins`), so `LED(17)` moves the kit's LED.

This file imports only the standard library until step 6: it runs before anything is known
to be safe, and the student's own files are in the working directory.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import resource
import runpy
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_NO_NEW_PRIVS = 38
PRIVATE_TMP = ("/tmp", "/var/tmp", "/dev/shm")

# exit codes the runner turns into a reason on the page
EXIT_MEMORY = 120
EXIT_SETUP = 121
EXIT_REFUSED = 122

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    _check(_libc.mount(source.encode(), target.encode(),
                       fstype.encode() if fstype else None, ctypes.c_ulong(flags),
                       data.encode() if data else None), f"mount {target}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def isolate(cfg: dict, report: dict) -> None:
    """Namespaces: no network, private temp folders, the kit's data dir out of sight."""
    uid, gid = os.geteuid(), os.getegid()
    net = CLONE_NEWNET if cfg.get("network_namespace", True) else 0
    flags = net | CLONE_NEWNS | (0 if uid == 0 else CLONE_NEWUSER)
    try:
        _check(_libc.unshare(ctypes.c_int(flags)), "unshare")
    except OSError as exc:
        report["network"] = "guard"
        report["filesystem"] = "permissions"
        report["isolation_error"] = str(exc)
        return
    if uid != 0:
        report["userns"] = True
        # map our own ids, so files keep their owner and we stay an ordinary user outside
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    report["network"] = "namespace" if net else "guard"
    workdir = os.getcwd()
    try:
        _mount("none", "/", None, MS_REC | MS_PRIVATE, None)
        keep = os.open(workdir, os.O_RDONLY | os.O_DIRECTORY)
        if uid == 0:
            expose(cfg.get("expose", []))
        # Python, its packages or labkit itself may live below /tmp (a checkout there): they
        # are bound back into the new, empty /tmp, read through descriptors opened before it
        under_tmp = [os.path.realpath(p) for p in cfg.get("expose", []) if _in_private_tmp(p)
                     and os.path.realpath(p) not in PRIVATE_TMP]
        kept = [(p, os.open(p, os.O_RDONLY | os.O_DIRECTORY)) for p in _outermost(under_tmp)
                if os.path.isdir(p)]
        for tmp in PRIVATE_TMP:
            if os.path.isdir(tmp):
                _mount("tmpfs", tmp, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=1777")
        for path, fd in kept:
            os.makedirs(path, exist_ok=True)
            _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC, None)
            os.close(fd)
        if _in_private_tmp(workdir):
            os.makedirs(workdir, exist_ok=True)    # the folder again, in the new /tmp
            _mount(f"/proc/self/fd/{keep}", workdir, None, MS_BIND, None)
        os.close(keep)
        for hidden in cfg.get("hide", []):
            if os.path.isdir(hidden):
                _mount("tmpfs", hidden, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV,
                       "size=4k,mode=000")
        os.chdir(workdir)
        report["filesystem"] = "namespace"
    except OSError as exc:
        report["filesystem"] = "permissions"
        report["isolation_error"] = str(exc)


def _in_private_tmp(path: str) -> bool:
    real = os.path.realpath(path)
    return any(real == t or real.startswith(t + "/") for t in PRIVATE_TMP)


def _outermost(paths: list[str]) -> list[str]:
    """The paths that are not inside another one of them (binding one binds what is below)."""
    out: list[str] = []
    for p in sorted(set(paths)):
        if not any(p == o or p.startswith(o + "/") for o in out):
            out.append(p)
    return out


def expose(paths: list[str]) -> None:
    """Make the interpreter and the packages readable for the unprivileged user.

    Python may live below a folder only root may enter (`/root/.pyenv/…`). In the program's
    own mount namespace such a folder is covered by an empty tmpfs into which just the one
    entry on the way to the interpreter is bind-mounted back, so the rest of it stays out of
    reach."""
    replaced: dict[str, int] = {}
    bound: set[str] = set()
    for target in paths:
        parts = os.path.realpath(target).strip("/").split("/")
        for i in range(1, len(parts)):
            ancestor = "/" + "/".join(parts[:i])
            child = ancestor + "/" + parts[i]
            if ancestor not in replaced:
                if os.stat(ancestor).st_mode & 0o001:
                    continue
                replaced[ancestor] = os.open(ancestor, os.O_RDONLY | os.O_DIRECTORY)
                _mount("tmpfs", ancestor, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
            if child in bound:
                continue
            source = f"/proc/self/fd/{replaced[ancestor]}/{parts[i]}"
            if os.path.isdir(source):
                os.mkdir(child)
            else:
                open(child, "w").close()
            _mount(source, child, None, MS_BIND | MS_REC, None)
            bound.add(child)
    for fd in replaced.values():
        os.close(fd)


def drop_privileges(cfg: dict, report: dict) -> None:
    """As root, become the unprivileged user (and check there is no way back)."""
    if os.geteuid() != 0:
        report["user"] = "same"
        report["uid"] = os.getuid()
        return
    uid, gid = int(cfg["uid"]), int(cfg["gid"])
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    try:
        os.setuid(0)
    except PermissionError:
        pass
    else:   # pragma: no cover - would mean the drop did nothing
        raise OSError("still able to become root after dropping privileges")
    report["user"] = "unprivileged"
    report["uid"] = os.getuid()


def no_new_privs(report: dict) -> None:
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    report["no_new_privs"] = True


def confine(cfg: dict, report: dict) -> None:
    """Landlock over what the namespaces (or their absence) left: see the module docstring.

    Needs `package_root` on sys.path and no-new-privileges set; a kernel without Landlock
    leaves file permissions, and the report says so."""
    from labkit.sandbox import landlock

    private = report.get("filesystem") == "namespace"
    writable = [os.getcwd(), "/dev/null"] + ([t for t in PRIVATE_TMP if os.path.isdir(t)]
                                              if private else [])
    try:
        abi = landlock.restrict(writable, hide=[] if private else cfg.get("hide", []))
    except OSError as exc:
        abi = 0
        report["landlock_error"] = str(exc)
    report["landlock"] = abi
    report["writes"] = "own folder" if abi else "permissions"
    if abi and not private:
        report["filesystem"] = "landlock"


def apply_limits(limits: dict, report: dict) -> None:
    def cap(which: int, value: int, hard: int | None = None) -> None:
        _soft, old_hard = resource.getrlimit(which)
        new_hard = value if hard is None else hard
        if old_hard != resource.RLIM_INFINITY:
            new_hard = min(new_hard, old_hard)
        resource.setrlimit(which, (min(value, new_hard), new_hard))

    cap(resource.RLIMIT_CPU, int(limits["cpu_seconds"]), int(limits["cpu_seconds"]) + 2)
    cap(resource.RLIMIT_AS, int(limits["memory_bytes"]))
    cap(resource.RLIMIT_FSIZE, int(limits["file_bytes"]))
    processes = int(limits["processes"])
    if os.geteuid() != 0 and not report.get("userns"):
        # RLIMIT_NPROC counts every task of this uid, the kit's own threads included (in a
        # user namespace of its own only the program's): leave room for those
        processes += _tasks_of(os.geteuid())
    cap(resource.RLIMIT_NPROC, processes)
    cap(resource.RLIMIT_NOFILE, int(limits["open_files"]))
    cap(resource.RLIMIT_CORE, 0)
    report["limits"] = True


def _tasks_of(uid: int) -> int:
    count = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.stat(f"/proc/{pid}").st_uid == uid:
                count += len(os.listdir(f"/proc/{pid}/task"))
        except OSError:
            continue
    return count


# ---- audit hooks: refusals inside the interpreter ----------------------------------------
_REFUSED_CTYPES = ("ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.call_function",
                   "ctypes.cdata", "ctypes.string_at", "ctypes.wstring_at", "ctypes.addressof")


class Refused(PermissionError):
    """What a student program sees when the sandbox says no."""


def install_guards(network_guard: bool, kit_socket: str | None) -> None:
    import socket as _socket

    allowed_unix = {kit_socket} if kit_socket else set()

    def hook(event: str, args: tuple) -> None:
        if event in _REFUSED_CTYPES:
            raise Refused("the sandbox does not allow ctypes (poking the interpreter's memory)")
        if not network_guard:
            return
        if event == "socket.__new__":
            family = args[1]
            if family != _socket.AF_UNIX:
                raise Refused("the sandbox allows no network: programs run offline")
        elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
                       "socket.gethostbyaddr", "socket.getnameinfo"):
            raise Refused("the sandbox allows no network: programs run offline")
        elif event in ("socket.connect", "socket.bind", "socket.sendto"):
            address = args[1]
            if not (isinstance(address, str) and address in allowed_unix):
                raise Refused("the sandbox allows no network: programs run offline")

    sys.addaudithook(hook)


def print_program_error(exc: BaseException) -> None:
    """The traceback as `python main.py` would print it: from the program's first frame."""
    import traceback

    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != "main.py":
        tb = tb.tb_next
    traceback.print_exception(type(exc), exc, tb or exc.__traceback__)
    sys.stderr.flush()


def probe() -> None:
    """`boot.py --probe`: shut the same doors, print which protections took, run nothing."""
    cfg = json.loads(os.environ.pop("LABKIT_SANDBOX"))
    report: dict = {}
    try:
        isolate(cfg, report)
        drop_privileges(cfg, report)
        no_new_privs(report)
        sys.path.insert(0, cfg.get("package_root") or _package_root())
        confine(cfg, report)
    except OSError as exc:
        report["error"] = str(exc)
    print(json.dumps(report))


def _package_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> None:
    if sys.argv[1:] == ["--probe"]:
        probe()
        return
    cfg = json.loads(os.environ.pop("LABKIT_SANDBOX"))
    report: dict = {}
    try:
        isolate(cfg, report)
        drop_privileges(cfg, report)
        no_new_privs(report)
        sys.path.insert(0, cfg["package_root"])
        confine(cfg, report)
        # the shared /tmp is out of reach without the mount namespace: temp files go home
        tmp = "/tmp" if report.get("filesystem") == "namespace" or not report.get("landlock") \
            else os.getcwd()
        os.environ.update({"HOME": os.getcwd(), "TMPDIR": tmp})
        from labkit.sandbox import kitpins   # noqa: E402 - only after the doors are shut

        link = kitpins.KitConnection.from_fd(int(cfg["kit_fd"]))
        apply_limits(cfg["limits"], report)
        link.hello(report)
        kitpins.install(link)
    except Exception as exc:
        print(f"labkit sandbox: could not prepare the program's process: {exc}", file=sys.stderr)
        os._exit(EXIT_SETUP)
    install_guards(report.get("network") != "namespace", None)
    sys.path[0:1] = [os.getcwd()]        # the program's own folder, as `python main.py` has
    sys.argv = ["main.py"]
    try:
        runpy.run_path("main.py", run_name="__main__")
    except MemoryError:
        sys.stderr.write("MemoryError: the program used more memory than it may "
                         f"({int(cfg['limits']['memory_bytes']) // (1024 * 1024)} MB)\n")
        sys.stderr.flush()
        os._exit(EXIT_MEMORY)
    except Refused as exc:
        print_program_error(exc)
        os._exit(EXIT_REFUSED)
    except Exception as exc:
        print_program_error(exc)
        os._exit(1)
    finally:
        sys.stdout.flush()


if __name__ == "__main__":
    main()
