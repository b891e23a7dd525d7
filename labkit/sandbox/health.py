"""`labkit doctor`: which of the sandbox's protections this kernel and user allow.

It starts the sandbox's first step in a child (`boot.py --probe`), with nothing to run, and
says what took: a network namespace or only the socket guard, private folders or only file
permissions, an unprivileged user or the kit's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Any

from labkit.sandbox.runner import BOOT, PACKAGE_ROOT, interpreter_paths, student_user


def probe(hide: list[str] | None = None) -> dict[str, Any]:
    """The protections a program would get now (the child's own report)."""
    drop = student_user() if os.geteuid() == 0 else None
    expose = interpreter_paths()
    cfg = {"expose": expose, "hide": hide or [], "package_root": str(PACKAGE_ROOT),
           "uid": drop[0] if drop else None, "gid": drop[1] if drop else None}
    with tempfile.TemporaryDirectory(prefix="labkit-probe-") as folder:
        if drop is not None:
            os.chown(folder, drop[0], drop[1])
        proc = subprocess.run([sys.executable, "-I", str(BOOT), "--probe"], cwd=folder,
                              env={"PATH": "/usr/bin:/bin", "LABKIT_SANDBOX": json.dumps(cfg)},
                              capture_output=True, text=True, timeout=30)
    try:
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        return {"error": (proc.stderr.strip().splitlines() or ["no answer"])[-1]}


def check_sandbox(settings: Any) -> Any:
    from labkit.doctor import Finding

    report = probe([str(settings.data_dir)])
    if "error" in report:
        return Finding("sandbox", False, f"student programs cannot be isolated: {report['error']}",
                       "run the kit on Linux with user namespaces enabled "
                       "(sysctl kernel.unprivileged_userns_clone=1) or as root", data=report)
    network = ("network namespace" if report.get("network") == "namespace"
               else "socket guard only (no network namespace)")
    files = {"namespace": "private folders", "landlock": "data dir hidden by Landlock"}.get(
        str(report.get("filesystem")), "file permissions only")
    if report.get("writes") == "own folder":
        files += ", writes only in its folder"
    user = "unprivileged user" if report.get("user") == "unprivileged" else "the kit's own user"
    strong = report.get("network") == "namespace" and report.get("filesystem") == "namespace"
    return Finding("sandbox", strong, f"student programs: {network}, {files}, {user}",
                   "" if strong else "enable user namespaces "
                   "(sysctl kernel.unprivileged_userns_clone=1) for the strongest isolation",
                   data=report)


def register_doctor_check() -> None:
    from labkit import doctor

    if check_sandbox not in doctor.CHECKS:
        doctor.register_check(check_sandbox)
