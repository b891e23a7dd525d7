"""The image's shell scripts and systemd units, checked without pi-gen, root or a Pi.

shellcheck on every script, `systemd-analyze verify` on the units (inside a fake root that has
the programs they start), the pi-gen stage's run script against a temp ROOTFS_DIR with a
recording `on_chroot`, install-labkit.sh into a temp prefix (twice: the second run changes
nothing), and build-image.sh assembling the stage and config in dry-run mode.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labkit.provision.config import parse_firstboot
from tests.unit.provision.fakewheel import build_wheelhouse

REPO = Path(__file__).resolve().parents[3]
IMAGES = REPO / "images"
STAGE = IMAGES / "pi-gen" / "stage-labkit"
UNITS = sorted((IMAGES / "systemd").glob("*.service"))


def shell_scripts() -> list[Path]:
    found = [p for p in (REPO / "images").rglob("*") if p.is_file()
             and (p.suffix == ".sh" or p.name == "EXPORT_IMAGE")]
    found += sorted((REPO / "scripts").glob("*.sh"))
    return sorted(found)


def test_every_script_is_found() -> None:
    names = {p.relative_to(REPO).as_posix() for p in shell_scripts()}
    assert {"images/install-labkit.sh", "images/pi-gen/build-image.sh",
            "images/pi-gen/stage-labkit/prerun.sh",
            "images/pi-gen/stage-labkit/00-labkit/01-run.sh",
            "images/pi-gen/stage-labkit/01-kiosk/01-run.sh",
            "images/kiosk/labkit-kiosk.sh", "images/arm64/test-arm64.sh",
            "scripts/ensure-system-deps.sh"} <= names


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_shellcheck(script: Path) -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is missing: bash scripts/ensure-system-deps.sh"
    proc = subprocess.run([shellcheck, "--shell=bash", "--severity=style", str(script)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout


def test_run_scripts_are_executable() -> None:
    for script in [STAGE / "prerun.sh", *STAGE.glob("*/0*-run.sh"),
                   IMAGES / "install-labkit.sh", IMAGES / "kiosk" / "labkit-kiosk.sh"]:
        assert os.access(script, os.X_OK), f"pi-gen skips {script} unless it is executable"


def fake_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    for exe in ("opt/labkit/current/bin/labkit", "opt/labkit/kiosk/labkit-kiosk.sh"):
        path = root / exe
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    (root / "etc/systemd/system").mkdir(parents=True)
    for unit in UNITS:
        shutil.copy(unit, root / "etc/systemd/system" / unit.name)
    return root


def systemd_verify(root: Path, names: list[str]) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("systemd-analyze")
    assert exe, "systemd-analyze is missing (Debian package systemd)"
    return subprocess.run([exe, "verify", "--man=no", "--recursive-errors=no", f"--root={root}",
                           *(f"/etc/systemd/system/{n}" for n in names)],
                          capture_output=True, text=True, timeout=120)


def test_units_verify(tmp_path: Path) -> None:
    root = fake_root(tmp_path)
    proc = systemd_verify(root, [u.name for u in UNITS])
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr


def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    root = fake_root(tmp_path)
    bad = root / "etc/systemd/system/labkit.service"
    bad.write_text(bad.read_text().replace("Restart=on-failure", "Restart=sometimes"))
    proc = systemd_verify(root, ["labkit.service"])
    assert proc.returncode != 0 and "restart specifier" in proc.stderr


def unit_settings(name: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in (IMAGES / "systemd" / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key, []).append(value)
    return out


def test_service_user_groups_and_hardening_that_keeps_devices() -> None:
    s = unit_settings("labkit.service")
    assert s["User"] == ["labkit"] and s["Restart"] == ["on-failure"]
    assert set(s["SupplementaryGroups"][0].split()) == {"video", "gpio", "audio", "spi"}
    assert "LG_WD=/var/lib/labkit" in s["Environment"]
    assert s["ProtectSystem"] == ["strict"] and s["ReadWritePaths"] == ["/var/lib/labkit"]
    assert s["NoNewPrivileges"] == ["yes"] and s["PrivateTmp"] == ["yes"]
    # each of these limits /dev to a fixed list: no camera, no /dev/gpiochip*
    for narrowing in ("PrivateDevices", "DevicePolicy", "DeviceAllow", "ProtectClock",
                      "ProtectKernelLogs"):
        assert narrowing not in s, narrowing
    first = unit_settings("labkit-firstboot.service")
    assert "|/boot/firmware/labkit.toml" in first["ConditionPathExists"]
    assert "labkit.service" in first["Before"][0]


def test_example_firstboot_file_is_valid() -> None:
    result = parse_firstboot(IMAGES / "firstboot" / "labkit.toml.example")
    assert result.problems == []
    assert result.config.teacher_pin and result.config.wifi is not None


def stage_files(tmp_path: Path) -> Path:
    """The stage as build-image.sh assembles it (dry run, no pi-gen, no models)."""
    wheelhouse = build_wheelhouse(tmp_path / "wh", "0.1.0")
    pigen = tmp_path / "pi-gen"
    (pigen / "stage2").mkdir(parents=True)
    env = {**os.environ, "PI_GEN_DIR": str(pigen), "LABKIT_IMAGE_DRY_RUN": "1",
           "LABKIT_IMAGE_MODELS": "0", "LABKIT_RELEASE": "bookworm"}
    proc = subprocess.run(["bash", str(IMAGES / "pi-gen" / "build-image.sh"), str(wheelhouse)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "bookworm-arm64 @ d7a31c6aa09f4b867902c51da2b45807c0a1709e" in proc.stdout
    assert "./build.sh -c config" in proc.stdout
    config = (pigen / "config").read_text()
    assert 'STAGE_LIST="stage0 stage1 stage2 stage-labkit"' in config
    assert 'RELEASE="bookworm"' in config and "ENABLE_CLOUD_INIT=0" in config
    assert (pigen / "stage2" / "SKIP_IMAGES").exists()
    return pigen / "stage-labkit"


def test_build_image_assembles_the_stage_and_its_run_script_fills_the_root(
        tmp_path: Path) -> None:
    stage = stage_files(tmp_path)
    assert (stage / "00-labkit" / "00-packages").read_text().count("python3-picamera2") == 1
    assert (stage / "EXPORT_IMAGE").exists() and os.access(stage / "prerun.sh", os.X_OK)
    rootfs = tmp_path / "rootfs"
    chroot_log = tmp_path / "chroot.log"
    # pi-gen exports on_chroot; this stand-in records what would run inside the image
    wrapper = ("on_chroot() { cat >> \"$CHROOT_LOG\"; echo '---' >> \"$CHROOT_LOG\"; }\n"
               "log() { echo \"$*\"; }\nexport -f on_chroot log\n"
               "cd \"$1\" && ./01-run.sh\n")
    for sub, release in (("00-labkit", "bookworm"), ("01-kiosk", "bookworm")):
        proc = subprocess.run(["bash", "-c", wrapper, "run", str(stage / sub)],
                              env={**os.environ, "ROOTFS_DIR": str(rootfs),
                                   "CHROOT_LOG": str(chroot_log), "RELEASE": release,
                                   "LABKIT_KIOSK": "1"},
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
    opt = rootfs / "opt" / "labkit"
    assert (opt / "wheelhouse" / "SHA256SUMS").exists()
    assert os.access(opt / "install-labkit.sh", os.X_OK)
    assert sorted(p.name for p in (opt / "systemd").iterdir()) == sorted(u.name for u in UNITS)
    assert (rootfs / "boot" / "firmware" / "labkit.toml.example").exists()
    inside = chroot_log.read_text()
    assert "LABKIT_MODELS=0 /opt/labkit/install-labkit.sh /opt/labkit/wheelhouse" in inside
    assert "cage chromium-browser" in inside and "systemctl enable labkit-kiosk.service" in inside


@pytest.mark.slow          # a venv with pip (ensurepip), as on a kit
def test_install_script_into_a_temp_prefix_twice(tmp_path: Path) -> None:
    wheelhouse = build_wheelhouse(tmp_path / "wh", "0.1.0")
    prefix, data = tmp_path / "opt", tmp_path / "data"
    env = {**os.environ, "LABKIT_PREFIX": str(prefix), "LABKIT_DATA": str(data),
           "LABKIT_SYSTEM": "0", "LABKIT_MODELS": "0", "LABKIT_EXTRAS": "",
           "LABKIT_PYTHON": getattr(sys, "_base_executable", sys.executable)}

    def install() -> str:
        proc = subprocess.run(["bash", str(IMAGES / "install-labkit.sh"), str(wheelhouse)],
                              env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    assert "installing labkit 0.1.0" in install()
    assert os.readlink(prefix / "current") == "venvs/0.1.0"
    second = install()
    assert "already installed" in second and "current ->" not in second
    (wheelhouse / "labkit-0.1.0-py3-none-any.whl").write_bytes(b"tampered")
    proc = subprocess.run(["bash", str(IMAGES / "install-labkit.sh"), str(wheelhouse)],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "damaged" in proc.stderr
