"""The lock files (scripts/lock.sh) agree with setup.cfg, carry hashes, and the Makefile refuses
a platform that has none."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]
LOCKS = {  # file -> (platform_machine, python_version, extras)
    "lock-x86_64-cp311.txt": ("x86_64", "3.11", ("dev",)),
    "lock-aarch64-cp311.txt": ("aarch64", "3.11", ("pi",)),
    "lock-aarch64-cp313.txt": ("aarch64", "3.13", ("pi",)),
}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def _pins(name: str) -> dict[str, tuple[str, int]]:
    """package -> (version, number of hashes), from a `--generate-hashes` lock."""
    pins: dict[str, tuple[str, int]] = {}
    current = ""
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        if m := PIN.match(line):
            current = canonicalize_name(m.group(1))
            assert current not in pins, f"{name}: {current} pinned twice"
            pins[current] = (m.group(2), 0)
        elif line.strip().startswith("--hash=sha256:"):
            version, count = pins[current]
            pins[current] = (version, count + 1)
        elif line.strip() and not line.lstrip().startswith("#"):
            pytest.fail(f"{name}: unexpected line {line!r}")
    return pins


def _requirements(extras: tuple[str, ...]) -> list[Requirement]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    blocks = [cfg["options"]["install_requires"]]
    blocks += [cfg["options.extras_require"][e] for e in extras]
    return [Requirement(line.strip()) for b in blocks for line in b.splitlines() if line.strip()]


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_every_locked_package_is_pinned_with_hashes(name: str) -> None:
    pins = _pins(name)
    assert len(pins) > 40
    assert all(count >= 1 for _, count in pins.values()), \
        [p for p, (_, c) in pins.items() if c == 0]
    assert not {"torch", "torchvision", "torchaudio"} & set(pins)
    assert {"setuptools", "wheel"} <= set(pins)       # labkit builds without fetching


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_lock_satisfies_setup_cfg(name: str) -> None:
    """A dependency added to setup.cfg without re-running scripts/lock.sh fails here."""
    machine, python, extras = LOCKS[name]
    env = {"platform_machine": machine, "python_version": python, "sys_platform": "linux",
           "platform_system": "Linux", "implementation_name": "cpython",
           "python_full_version": python + ".0", "extra": ""}
    pins = _pins(name)
    for req in _requirements(extras):
        if req.marker and not Marker(str(req.marker)).evaluate(env):
            continue
        key = canonicalize_name(req.name)
        assert key in pins, f"{name} lacks {req} (run scripts/lock.sh)"
        assert req.specifier.contains(pins[key][0], prereleases=True), \
            f"{name}: {key}=={pins[key][0]} does not satisfy {req}"


@pytest.mark.parametrize("name", ["lock-aarch64-cp311.txt", "lock-aarch64-cp313.txt"])
def test_a_pi_gets_the_versions_ci_tested(name: str) -> None:
    tested = _pins("lock-x86_64-cp311.txt")
    for package, (version, _) in _pins(name).items():
        if package in tested:
            assert version == tested[package][0], f"{name}: {package}"


@pytest.mark.skipif(not shutil.which("make"), reason="needs make")
def test_make_explains_a_platform_without_a_lock(tmp_path: Path) -> None:
    fake = tmp_path / "python-fake"
    fake.write_text("#!/bin/sh\necho cp399\n")
    fake.chmod(0o755)
    res = subprocess.run(["make", "-C", str(ROOT), "venv", f"PYTHON={fake}",
                          f"VENV={tmp_path / 'venv'}"], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "MAKEFLAGS": ""}, check=False)
    assert res.returncode != 0
    assert "No lock file for this machine" in res.stderr and "cp399" in res.stderr
    assert "x86_64-cp311" in res.stderr and "aarch64-cp313" in res.stderr
    assert not (tmp_path / "venv").exists()
