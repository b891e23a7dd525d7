"""The built-in pack at a kit's first start: the package's labs installed through the pack
store (no key on the machine, nothing signed), left alone when unchanged, refreshed when the
package's labs change, replaced by a shipped signed built-in pack, and never un-retired."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from labkit import __version__
from labkit.config import Settings
from labkit.packs import labpack, signing
from labkit.projects import packcli
from labkit.projects.discovery import PACKAGE_LABS
from labkit.projects.registry import discover


@pytest.fixture
def kit(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", hardware="sim")


def test_first_start_installs_the_package_labs_unsigned(kit: Settings, tmp_path: Path) -> None:
    assert packcli.ensure_builtin(kit, shipped=tmp_path / "none") == "package"
    state = json.loads((kit.data_dir / "packs" / "state.json").read_text())
    entry = state[labpack.BUILTIN_ID]
    assert entry["current"] == __version__ and entry["origin"] == "package"
    assert entry["key"] is None
    folder = kit.data_dir / "packs" / "installed" / labpack.BUILTIN_ID / __version__
    assert not (folder / labpack.SIGNATURE).exists()          # no signature is made up
    manifest = json.loads((folder / labpack.MANIFEST).read_text())
    for rel, rec in manifest["files"].items():
        assert (folder / rel).stat().st_size == rec["size"]
    labs = discover(data_dir=kit.data_dir)
    assert labs.specs["clap_lamp"].folder.is_relative_to(folder)
    assert labs.problems == discover().problems
    # the next start: nothing to do
    assert packcli.ensure_builtin(kit, shipped=tmp_path / "none") == ""


def test_changed_package_labs_are_installed_again(kit: Settings, tmp_path: Path) -> None:
    labs = tmp_path / "labs"
    shutil.copytree(PACKAGE_LABS, labs, ignore=shutil.ignore_patterns("__pycache__"))
    store = labpack.PackStore(kit.data_dir)
    assert store.install_from_package(labs) is not None
    assert store.install_from_package(labs) is None
    lab_yaml = labs / "experience" / "clap_lamp" / "lab.yaml"
    lab_yaml.write_text(lab_yaml.read_text() + "\n# edited\n")
    assert store.install_from_package(labs) is not None
    installed = store.builtin_labs()
    assert installed is not None
    assert (installed / "experience" / "clap_lamp" / "lab.yaml").read_text().endswith("# edited\n")


def test_a_link_in_the_package_labs_is_refused(kit: Settings, tmp_path: Path) -> None:
    labs = tmp_path / "labs"
    (labs / "experience").mkdir(parents=True)
    (labs / "experience" / "x").symlink_to("/etc/passwd")
    with pytest.raises(labpack.PackRefused):
        labpack.PackStore(kit.data_dir).install_from_package(labs)
    assert not (kit.data_dir / "packs" / "state.json").exists()


def test_a_shipped_signed_builtin_replaces_the_package_copy(kit: Settings,
                                                            tmp_path: Path) -> None:
    key = tmp_path / "keys" / "publisher.key"
    pub = tmp_path / "keys" / "publisher.pub"
    pub.write_text(signing.public_text(signing.generate(key)))
    shipped = tmp_path / "shipped"
    labpack.build_builtin(PACKAGE_LABS, key, shipped)
    store = labpack.PackStore(kit.data_dir, builtin_key=pub)
    assert packcli.ensure_builtin(kit, shipped=tmp_path / "none", store=store) == "package"
    assert packcli.ensure_builtin(kit, shipped=shipped, store=store) == "signed"
    entry = store.state()[labpack.BUILTIN_ID]
    assert entry.get("origin") is None and entry["key"] == signing.key_id(
        signing.parse_public(pub.read_text()))
    assert packcli.ensure_builtin(kit, shipped=shipped, store=store) == ""


def test_a_shipped_pack_with_an_unknown_key_falls_back_to_the_package(kit: Settings,
                                                                     tmp_path: Path) -> None:
    key = tmp_path / "stranger.key"
    signing.generate(key)
    shipped = tmp_path / "shipped"
    labpack.build_builtin(PACKAGE_LABS, key, shipped)
    assert packcli.ensure_builtin(kit, shipped=shipped) == "package"


def test_a_retired_builtin_stays_retired(kit: Settings, tmp_path: Path) -> None:
    packcli.ensure_builtin(kit, shipped=tmp_path / "none")
    labpack.PackStore(kit.data_dir).retire(labpack.BUILTIN_ID)
    assert packcli.ensure_builtin(kit, shipped=tmp_path / "none") == ""
    assert labpack.PackStore(kit.data_dir).builtin_labs() is None


def test_the_package_copy_is_not_pushed_to_other_kits(kit: Settings, tmp_path: Path) -> None:
    from labkit.fleet import packs_out

    packcli.ensure_builtin(kit, shipped=tmp_path / "none")
    with pytest.raises(labpack.PackRefused) as info:
        packs_out.installed_pack_file(kit.data_dir, labpack.BUILTIN_ID, tmp_path / "out")
    assert info.value.code == "unsigned"
