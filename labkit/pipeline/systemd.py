"""Start a pipeline on boot: one systemd template unit, one enabled instance per pipeline.

`labkit pipeline enable FILE` checks the file, keeps a copy as `<data>/pipelines/boot/<name>
.yaml`, writes `labkit-pipeline@.service` (which runs `labkit pipeline run` on that copy) and
enables `labkit-pipeline@<name>.service` the way `systemctl enable` does — a link in
`multi-user.target.wants/` — so a student's project keeps working as an installed device
after a power cut. `disable NAME` undoes it. The units go to `LABKIT_SYSTEMD_DIR` (tests, an
image being built) or `/etc/systemd/system`.

`systemctl` is asked to reload and start or stop the unit when it is there (a laptop in sim,
a container may have none: the files are written all the same). The pipeline's name is
checked (`spec.ID`) and passed only after `--`, never where systemctl reads options.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _
from labkit.fsutil import atomic_write_text
from labkit.pipeline.spec import ID, Pipeline

log = logging.getLogger(__name__)

TEMPLATE = "labkit-pipeline@.service"
WANTS = "multi-user.target.wants"


def units_dir() -> Path:
    return Path(os.environ.get("LABKIT_SYSTEMD_DIR") or "/etc/systemd/system")


def boot_dir(data_dir: str | os.PathLike[str]) -> Path:
    return Path(data_dir) / "pipelines" / "boot"


def unit_name(name: str) -> str:
    if not ID.match(name):
        raise LabkitError(_("%(name)r is not a pipeline name", name=name), code="bad_input",
                          fix=_("see the names with: labkit pipeline list"))
    return f"labkit-pipeline@{name}.service"


def _owner(path: Path) -> tuple[str, str] | None:
    """The user and group owning the data dir (the unit runs as them, never as root)."""
    import grp
    import pwd

    try:
        st = path.stat()
        if st.st_uid == 0:
            return None
        return pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name
    except (OSError, KeyError):
        return None


def template_text(data_dir: Path, hardware: str) -> str:
    """The template unit: `%i` is the pipeline's name, checked by `unit_name`. It runs as the
    data dir's owner with the devices' groups, offline (its own empty network namespace),
    with only the data dir writable — the kit's own service (images/systemd/labkit.service)
    is hardened the same way."""
    owner = _owner(data_dir)
    user = (f"User={owner[0]}\nGroup={owner[1]}\n"
            "SupplementaryGroups=video gpio audio spi\n") if owner else ""
    return (
        "# written by `labkit pipeline enable` (docs/pipeline.md)\n"
        "[Unit]\n"
        "Description=labkit pipeline %i\n"
        "After=labkit-firstboot.service sound.target\n\n"
        "[Service]\n"
        "Type=exec\n"
        f"{user}"
        f'Environment="LABKIT_DATA={data_dir}"\n'
        f'Environment="LABKIT_HARDWARE={hardware}"\n'
        f'Environment="LG_WD={data_dir}"\n'
        "Environment=PYTHONUNBUFFERED=1\n"
        "EnvironmentFile=-/etc/default/labkit\n"
        f"WorkingDirectory={data_dir}\n"
        f'ExecStart="{sys.executable}" -m labkit.cli pipeline run '
        f'"{boot_dir(data_dir)}/%i.yaml"\n'
        "Restart=on-failure\n"
        "RestartSec=5\n"
        "TimeoutStopSec=20\n"
        "NoNewPrivileges=yes\n"
        "PrivateTmp=yes\n"
        "PrivateNetwork=yes\n"
        "ProtectSystem=strict\n"
        f'ReadWritePaths="{data_dir}"\n'
        "ProtectKernelTunables=yes\n"
        "ProtectKernelModules=yes\n"
        "ProtectControlGroups=yes\n"
        "RestrictSUIDSGID=yes\n"
        "LockPersonality=yes\n"
        "UMask=0027\n\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n")


def _systemctl(*args: str) -> None:
    exe = shutil.which("systemctl")
    if exe is None or os.environ.get("LABKIT_SYSTEMD_DIR"):
        log.info("systemctl not used (%s)", "not installed" if exe is None else
                 "LABKIT_SYSTEMD_DIR is set")
        return
    try:
        subprocess.run([exe, *args], check=False, timeout=30, capture_output=True)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("systemctl %s failed: %s", args[0], exc)


def enable(pipeline: Pipeline, data_dir: str | os.PathLike[str], hardware: str) -> Path:
    """Keep the pipeline for boot and enable its unit; returns the saved copy's path."""
    data = Path(data_dir).absolute()
    unit = unit_name(pipeline.name)
    saved = boot_dir(data) / f"{pipeline.name}.yaml"
    saved.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(saved, pipeline.text)
    units = units_dir()
    (units / WANTS).mkdir(parents=True, exist_ok=True)
    atomic_write_text(units / TEMPLATE, template_text(data, hardware))
    link = units / WANTS / unit
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(Path("..") / TEMPLATE)
    _systemctl("daemon-reload")
    _systemctl("restart", "--", unit)
    return saved


def disable(name: str, data_dir: str | os.PathLike[str]) -> None:
    """Stop the pipeline's unit and forget it for boot (the template goes with the last)."""
    unit = unit_name(name)
    saved = boot_dir(data_dir) / f"{name}.yaml"
    link = units_dir() / WANTS / unit
    if not saved.exists() and not link.is_symlink():
        raise LabkitError(_("no pipeline called %(name)s starts on boot", name=name),
                          code="not_found", fix=_("see the names with: labkit pipeline list"))
    _systemctl("stop", "--", unit)
    if link.is_symlink() or link.exists():
        link.unlink()
    saved.unlink(missing_ok=True)
    if not enabled(data_dir):
        (units_dir() / TEMPLATE).unlink(missing_ok=True)
    _systemctl("daemon-reload")


def enabled(data_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The pipelines kept for boot, and whether their unit is enabled."""
    folder = boot_dir(data_dir)
    out = []
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        link = units_dir() / WANTS / f"labkit-pipeline@{path.stem}.service"
        out.append({"name": path.stem, "file": str(path), "enabled": link.is_symlink()})
    return out
