"""Signed lab packs: sign/verify round trip, install/upgrade/rollback/retire, and every
refusal (unsigned, tampered, wrongly signed, untrusted, downgraded, path-traversing, a model
that fails vetting) leaving the data dir exactly as it was."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any, Callable

import pytest

from labkit.packs import labpack, signing
from labkit.packs.labpack import PackRefused, PackStore
from labkit.projects.discovery import PACKAGE_LABS
from labkit.projects.registry import discover

LAB = PACKAGE_LABS / "experience" / "clap_lamp"


def tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    if root.exists():
        for p in sorted(root.rglob("*")):
            h.update(str(p.relative_to(root)).encode())
            if p.is_file():
                h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    """A publisher key pair (the kit's built-in key in these tests) and a stranger's."""
    out = {}
    for name in ("publisher", "stranger"):
        priv = tmp_path / "keys" / f"{name}.key"
        pub = signing.generate(priv)
        (tmp_path / "keys" / f"{name}.pub").write_text(signing.public_text(pub))
        out[name] = priv
    return out


@pytest.fixture
def store(tmp_path: Path) -> PackStore:
    return PackStore(tmp_path / "data", builtin_key=tmp_path / "keys" / "publisher.pub")


def make_source(where: Path, version: str = "1.0.0", *, pack_id: str = "science",
                extra: Callable[[Path], None] | None = None) -> Path:
    src = where / f"src-{version}"
    while src.exists():
        src = src.with_name(src.name + "+")
    shutil.copytree(LAB, src / "labs" / "experience" / "pack_clap_lamp")
    (src / "media").mkdir()
    (src / "media" / "clap.txt").write_text(f"media {version}")
    (src / labpack.SOURCE_FILE).write_text(json.dumps(
        {"id": pack_id, "version": version, "title": "科学实验包", "min_labkit": "0.1.0"}))
    if extra:
        extra(src)
    return src


def build(tmp_path: Path, key: Path, version: str = "1.0.0", **kw: Any) -> Path:
    return labpack.build_pack(make_source(tmp_path, version, **kw), key, tmp_path / "usb")


def rewrite(pack: Path, out: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    """Copy a pack's members, let `change` edit them (name → bytes), write a new tar."""
    with tarfile.open(pack) as tf:
        members = {m.name: tf.extractfile(m).read() for m in tf if m.isfile()}  # type: ignore
    change(members)
    with tarfile.open(out, "w") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return out


def test_sign_verify_round_trip(tmp_path: Path, keys: dict[str, Path], store: PackStore) -> None:
    pack = build(tmp_path, keys["publisher"])
    info = labpack.verify_pack(pack, store.keys())
    assert (info.id, info.version, info.title) == ("science", "1.0.0", "科学实验包")
    assert "labs/experience/pack_clap_lamp/lab.yaml" in info.files
    assert info.files["media/clap.txt"]["sha256"] == hashlib.sha256(b"media 1.0.0").hexdigest()


def test_install_upgrade_rollback_retire(tmp_path: Path, keys: dict[str, Path],
                                         store: PackStore) -> None:
    data = store.data_dir
    assert "pack_clap_lamp" not in discover(data_dir=data).specs
    store.install(build(tmp_path, keys["publisher"]), vet=None)
    labs = discover(data_dir=data)
    assert labs.specs["pack_clap_lamp"].origin == "data"
    assert store.list()[0]["current"] == "1.0.0"
    store.install(build(tmp_path, keys["publisher"], "1.1.0"), vet=None)
    assert store.list()[0]["current"] == "1.1.0"
    media = store.installed / "science" / "1.1.0" / "media" / "clap.txt"
    assert media.read_text() == "media 1.1.0"
    assert store.rollback("science") == "1.0.0"
    assert store.list()[0]["current"] == "1.0.0"
    assert "pack_clap_lamp" in discover(data_dir=data).specs
    with pytest.raises(PackRefused) as err:
        store.rollback("science")
    assert err.value.code == "no_rollback"
    store.retire("science")
    assert store.list()[0]["retired"] is True
    assert "pack_clap_lamp" not in discover(data_dir=data).specs
    # kept on disk for the portfolios that refer to it
    assert (store.installed / "science" / "1.0.0" / "labs").is_dir()
    assert store.lab_roots(include_retired=True)
    store.retire("science", retired=False)
    assert "pack_clap_lamp" in discover(data_dir=data).specs


def _installed(tmp_path: Path, keys: dict[str, Path], store: PackStore) -> str:
    store.install(build(tmp_path, keys["publisher"], "2.0.0"), vet=None)
    return tree_hash(store.data_dir)


def _flip_media(m: dict[str, bytes]) -> None:
    m["content/media/clap.txt"] = b"tampered"


def _add_evil(m: dict[str, bytes]) -> None:
    m["content/../../evil.txt"] = b"x"


def _drop_sig(m: dict[str, bytes]) -> None:
    del m[labpack.SIGNATURE]


def _edit_manifest(m: dict[str, bytes]) -> None:
    man = json.loads(m[labpack.MANIFEST])
    man["min_labkit"] = "0.0.1"
    m[labpack.MANIFEST] = json.dumps(man).encode()


def _extra_file(m: dict[str, bytes]) -> None:
    m["content/labs/experience/pack_clap_lamp/checks.py"] = b"import os"


TAMPER = {"tampered_file": (_flip_media, "bad_hash"),
          "path_traversal": (_add_evil, "bad_archive"),
          "unsigned": (_drop_sig, "unsigned"),
          "manifest_edited": (_edit_manifest, "bad_signature"),
          "unlisted_file": (_extra_file, "bad_manifest")}


@pytest.mark.parametrize("case", sorted(TAMPER))
def test_tampered_pack_refused_nothing_changed(case: str, tmp_path: Path,
                                               keys: dict[str, Path], store: PackStore) -> None:
    before = _installed(tmp_path, keys, store)
    change, code = TAMPER[case]
    good = build(tmp_path, keys["publisher"], "3.0.0")
    bad = rewrite(good, tmp_path / f"{case}.labpack", change)
    with pytest.raises(PackRefused) as err:
        store.install(bad, vet=None)
    assert err.value.code == code, err.value.message
    assert "Nothing was changed" in err.value.fix
    assert tree_hash(store.data_dir) == before
    assert not (tmp_path / "evil.txt").exists()


def test_wrongly_signed_and_untrusted_refused(tmp_path: Path, keys: dict[str, Path],
                                              store: PackStore) -> None:
    before = _installed(tmp_path, keys, store)
    stranger = build(tmp_path, keys["stranger"], "3.0.0")
    with pytest.raises(PackRefused) as err:
        store.install(stranger, vet=None)
    assert err.value.code == "untrusted_key"
    # the publisher's key named, a stranger's signature
    pub_text = (tmp_path / "keys" / "publisher.pub").read_text()

    def forge(m: dict[str, bytes]) -> None:
        sig = json.loads(m[labpack.SIGNATURE])
        m[labpack.SIGNATURE] = json.dumps({"key": pub_text, "signature": sig["signature"]}
                                          ).encode()
    forged = rewrite(stranger, tmp_path / "forged.labpack", forge)
    with pytest.raises(PackRefused) as err:
        store.install(forged, vet=None)
    assert err.value.code == "bad_signature"
    assert tree_hash(store.data_dir) == before
    # once the teacher trusts the stranger's key, the same pack installs
    labpack.add_trusted_key(store.data_dir, (tmp_path / "keys" / "stranger.pub").read_text())
    assert store.install(stranger, vet=None).version == "3.0.0"


@pytest.mark.parametrize("version", ["2.0.0", "1.9.9"])
def test_downgrade_refused(version: str, tmp_path: Path, keys: dict[str, Path],
                           store: PackStore) -> None:
    before = _installed(tmp_path, keys, store)
    with pytest.raises(PackRefused) as err:
        store.install(build(tmp_path, keys["publisher"], version), vet=None)
    assert err.value.code == "downgrade"
    assert tree_hash(store.data_dir) == before


def test_pack_for_a_newer_labkit_refused(tmp_path: Path, keys: dict[str, Path],
                                         store: PackStore) -> None:
    def newer(src: Path) -> None:
        meta = json.loads((src / labpack.SOURCE_FILE).read_text())
        (src / labpack.SOURCE_FILE).write_text(json.dumps({**meta, "min_labkit": "99.0"}))
    with pytest.raises(PackRefused) as err:
        store.install(build(tmp_path, keys["publisher"], extra=newer), vet=None)
    assert err.value.code == "too_new"
    assert not store.data_dir.exists()


def test_models_in_a_pack_are_vetted_before_anything_is_written(
        tmp_path: Path, keys: dict[str, Path], store: PackStore) -> None:
    from labkit.projects.packcli import vet_pack_model

    def with_model(src: Path) -> None:
        (src / "models" / "evil").mkdir(parents=True)
        (src / "models" / "evil" / "model.onnx").write_bytes(b"not an onnx graph at all")
    pack = build(tmp_path, keys["publisher"], extra=with_model)
    with pytest.raises(PackRefused) as err:
        store.install(pack, vet=vet_pack_model)
    assert err.value.code == "bad_model"
    assert not store.data_dir.exists()


def test_symlink_in_source_refused_at_build(tmp_path: Path, keys: dict[str, Path]) -> None:
    def link(src: Path) -> None:
        (src / "media" / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(PackRefused) as err:
        build(tmp_path, keys["publisher"], extra=link)
    assert err.value.code == "bad_source"


def test_builtin_publisher_key_is_a_public_key() -> None:
    key = signing.parse_public(labpack.PUBLISHER_KEY.read_text())
    assert signing.key_id(key) in labpack.trusted_keys(None)


def test_find_packs_on_mounted_drives(tmp_path: Path, keys: dict[str, Path]) -> None:
    pack = build(tmp_path, keys["publisher"])
    (tmp_path / "usb" / "notes.txt").write_text("x")
    assert labpack.find_packs([str(tmp_path / "usb" / "*")]) == [pack]
