"""Wheelhouse folders and archives: every file checked against SHA256SUMS, nothing else in."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from labkit.provision.bundle import BundleError, find_wheel, unpack, verify_folder, write_sums
from tests.unit.provision.fakewheel import build_wheel, build_wheelhouse


def test_sums_round_trip_and_sha256sum_format(tmp_path: Path) -> None:
    folder = build_wheelhouse(tmp_path / "wh", "0.2.0")
    (folder / "models").mkdir()
    (folder / "models" / "fer-25.10.3-py3-none-any.whl").write_bytes(b"model wheel")
    write_sums(folder)
    lines = (folder / "SHA256SUMS").read_text().splitlines()
    assert [line.split("  ")[1] for line in lines] == ["labkit-0.2.0-py3-none-any.whl",
                                                      "models/fer-25.10.3-py3-none-any.whl"]
    verified = verify_folder(folder)
    assert find_wheel(verified, "labkit")[0] == "0.2.0"


def test_altered_missing_and_unlisted_files_are_refused(tmp_path: Path) -> None:
    folder = build_wheelhouse(tmp_path / "wh", "0.2.0")
    wheel = folder / "labkit-0.2.0-py3-none-any.whl"
    wheel.write_bytes(wheel.read_bytes() + b"x")
    with pytest.raises(BundleError, match="does not match its sha256"):
        verify_folder(folder)
    write_sums(folder)
    build_wheel(folder, "0.3.0")
    with pytest.raises(BundleError, match="not listed in SHA256SUMS"):
        verify_folder(folder)
    wheel.unlink()
    (folder / "labkit-0.3.0-py3-none-any.whl").unlink()
    with pytest.raises(BundleError, match="is missing"):
        verify_folder(folder)
    (folder / "SHA256SUMS").unlink()
    with pytest.raises(BundleError, match="no SHA256SUMS"):
        verify_folder(folder)


def test_two_labkit_wheels_are_ambiguous(tmp_path: Path) -> None:
    folder = tmp_path / "wh"
    build_wheel(folder, "0.2.0")
    build_wheel(folder, "0.3.0")
    write_sums(folder)
    with pytest.raises(BundleError, match="2 labkit wheels"):
        find_wheel(verify_folder(folder), "labkit")


def test_tar_bundle_unpacks_flat_and_refuses_links_and_escapes(tmp_path: Path) -> None:
    folder = build_wheelhouse(tmp_path / "wh", "0.2.0")
    archive = tmp_path / "wheelhouse.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(folder, arcname="labkit-wheelhouse-0.2.0")
    out = unpack(archive, tmp_path)
    assert find_wheel(verify_folder(out), "labkit")[0] == "0.2.0"

    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tf:
        data = b"boom"
        info = tarfile.TarInfo("../../escape.whl")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("link.whl")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tf.addfile(link)
    out = unpack(evil, tmp_path)
    assert sorted(p.name for p in out.iterdir()) == ["escape.whl"]   # flattened, inside
    assert not (tmp_path.parent / "escape.whl").exists()
    with pytest.raises(BundleError, match="no SHA256SUMS"):
        verify_folder(out)


def test_not_an_archive(tmp_path: Path) -> None:
    junk = tmp_path / "update.tar"
    junk.write_bytes(b"not a tar file at all")
    with pytest.raises(BundleError, match="not a readable"):
        unpack(junk, tmp_path)
    with pytest.raises(BundleError, match="does not exist"):
        unpack(tmp_path / "nope.tar", tmp_path)
