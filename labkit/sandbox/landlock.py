"""Landlock: the kernel keeps a student program's writes in its own folder, as any user.

A kit started by an ordinary user runs the program as that same user: file permissions alone
let the program write wherever the kit may (the user's home, the kit's data dir) and, where
the kernel refuses user namespaces so no folder can be covered, read the kit's secret key.
Landlock (Linux ≥ 5.13, no privileges needed) restricts the calling process and everything
it starts, for good:

- writes (make, remove, rename, write, truncate) only below the program's folder, the private
  temporary folders when they are private, and `/dev/null`;
- with `hide`: reads only outside the hidden folders (Landlock allows, never denies, so every
  folder beside the way down to a hidden one is allowed instead — what a mount namespace's
  cover does where there is none);
- TCP connect and bind refused (ABI 4), signals to and abstract sockets of processes outside
  the program refused (ABI 6): the kit's own process among them.

Only the standard library: `boot.py` applies it before the program runs. Syscall numbers
444–446 are the same on every architecture the kit runs on (x86-64, arm64, arm).
"""

from __future__ import annotations

import ctypes
import os
from typing import Iterable

SYS_CREATE_RULESET = 444
SYS_ADD_RULE = 445
SYS_RESTRICT_SELF = 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13          # ABI 2
TRUNCATE = 1 << 14       # ABI 3
NET_BIND_TCP = 1 << 0    # ABI 4
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0   # ABI 6
SCOPE_SIGNAL = 1 << 1

#: what may be done to a file itself (a rule on a file may name only these)
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def abi_version() -> int:
    """The kernel's Landlock ABI (0: none, or switched off)."""
    version = _libc.syscall(ctypes.c_long(SYS_CREATE_RULESET), None, ctypes.c_size_t(0),
                            ctypes.c_uint32(CREATE_RULESET_VERSION))
    return max(int(version), 0)


def _write_rights(abi: int) -> int:
    rights = (WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_CHAR | MAKE_DIR | MAKE_REG
              | MAKE_SOCK | MAKE_FIFO | MAKE_BLOCK | MAKE_SYM)
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    return rights


def readable_around(hidden: Iterable[str], root: str = "/") -> list[str]:
    """The paths to allow reading so that everything but `hidden` stays readable.

    Walks down from `root` only along the way to each hidden folder: each folder beside the
    way is allowed whole, the way itself is not (its own entries are still listed: READ_DIR
    on the parents would allow reading everything below them)."""
    hidden = [os.path.realpath(h) for h in hidden]
    out: list[str] = []

    def walk(folder: str) -> None:
        try:
            entries = sorted(os.listdir(folder))
        except OSError:
            return
        for name in entries:
            path = os.path.join(folder, name)
            if path in hidden:
                continue
            if any(h.startswith(path + "/") for h in hidden) and os.path.isdir(path) \
                    and not os.path.islink(path):
                walk(path)
            else:
                out.append(path)

    if any(h == root for h in hidden):
        return out
    walk(root)
    return out


def restrict(writable: Iterable[str], *, hide: Iterable[str] = (),
             readable: Iterable[str] = ()) -> int:
    """Restrict this process (and what it starts) for good; the ABI used, or 0 if none.

    `writable`: folders (or files) the program may change; `hide`: folders it must not read;
    `readable`: paths inside `hide` that must stay readable all the same (Python itself, when
    a checkout's data dir holds it). Needs PR_SET_NO_NEW_PRIVS first (boot.py sets it)."""
    abi = abi_version()
    if abi < 1:
        return 0
    hide = [h for h in hide if os.path.isdir(h)]
    fs = _write_rights(abi)
    if hide:
        fs |= READ_FILE | READ_DIR | EXECUTE
    attr = _RulesetAttr(fs, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    size = ctypes.sizeof(attr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = _libc.syscall(ctypes.c_long(SYS_CREATE_RULESET), ctypes.byref(attr),
                            ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"landlock_create_ruleset: {os.strerror(err)}")
    read = READ_FILE | READ_DIR | EXECUTE if hide else 0
    try:
        rules: dict[str, int] = {}
        for path in readable_around(hide) if hide else ():
            rules[path] = rules.get(path, 0) | read
        for path in readable:
            rules[path] = rules.get(path, 0) | read
        for path in writable:
            rules[path] = rules.get(path, 0) | fs
        for path, access in rules.items():
            _add_rule(ruleset, path, access)
        if _libc.syscall(ctypes.c_long(SYS_RESTRICT_SELF), ctypes.c_int(ruleset),
                         ctypes.c_uint32(0)) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"landlock_restrict_self: {os.strerror(err)}")
    finally:
        os.close(ruleset)
    return abi


def _add_rule(ruleset: int, path: str, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return            # gone, or not ours to see: nothing to allow
    try:
        if not os.path.isdir(path):
            access &= FILE_RIGHTS
        if not access:
            return
        rule = _PathBeneath(access, fd)
        if _libc.syscall(ctypes.c_long(SYS_ADD_RULE), ctypes.c_int(ruleset),
                         ctypes.c_int(RULE_PATH_BENEATH), ctypes.byref(rule),
                         ctypes.c_uint32(0)) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"landlock_add_rule {path}: {os.strerror(err)}")
    finally:
        os.close(fd)
