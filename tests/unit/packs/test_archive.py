"""The strict archive reader refuses every unsafe member and writes nothing when it does."""

from __future__ import annotations

import gzip
import hashlib
import io
import stat
import tarfile
import zipfile
from pathlib import Path
from typing import Callable

import pytest

from labkit.packs.archive import (ArchiveLimits, ArchiveRefused, StrictArchive, safe_name,
                                  staging_dir, swap_in)


def _tar(path: Path, *members: tarfile.TarInfo | tuple[str, bytes], gz: bool = False) -> Path:
    with tarfile.open(path, "w:gz" if gz else "w") as tf:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tf.addfile(m)
            else:
                info = tarfile.TarInfo(m[0])
                info.size = len(m[1])
                tf.addfile(info, io.BytesIO(m[1]))
    return path


def _special(name: str, kind: bytes, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


OK = ("a/ok.txt", b"fine")

TAR_CASES: dict[str, tuple[Callable[[], list], str]] = {
    "absolute": (lambda: [OK, ("/tmp/labkit-evil.txt", b"x")], "absolute path"),
    "drive_letter": (lambda: [("C:/evil.txt", b"x")], "absolute path"),
    "dotdot": (lambda: [("../evil.txt", b"x")], "outside the pack"),
    "dotdot_inside": (lambda: [("a/../../evil.txt", b"x")], "outside the pack"),
    "backslash": (lambda: [("a\\..\\evil.txt", b"x")], "outside the pack"),
    "symlink": (lambda: [_special("a/link", tarfile.SYMTYPE, "/etc/passwd")], "is a link"),
    "hardlink": (lambda: [OK, _special("a/hard", tarfile.LNKTYPE, "a/ok.txt")], "is a link"),
    "chardev": (lambda: [_special("a/dev", tarfile.CHRTYPE)], "special file"),
    "blockdev": (lambda: [_special("a/blk", tarfile.BLKTYPE)], "special file"),
    "fifo": (lambda: [_special("a/fifo", tarfile.FIFOTYPE)], "special file"),
    "duplicate": (lambda: [OK, OK], "appears twice"),
    "duplicate_normalised": (lambda: [OK, ("./a//ok.txt", b"other")], "appears twice"),
}


@pytest.mark.parametrize("case", sorted(TAR_CASES))
def test_unsafe_tar_member_is_refused(case: str, tmp_path: Path) -> None:
    build, expect = TAR_CASES[case]
    path = _tar(tmp_path / "x.tar", *build())
    with pytest.raises(ArchiveRefused) as err:
        StrictArchive(path)
    assert expect in err.value.message, err.value.message
    assert "Nothing was changed" in err.value.fix
    assert not Path("/tmp/labkit-evil.txt").exists()


def test_member_count_cap(tmp_path: Path) -> None:
    path = _tar(tmp_path / "many.tar", *[(f"f{i}", b"") for i in range(11)])
    with pytest.raises(ArchiveRefused, match="more than 10 members"):
        StrictArchive(path, ArchiveLimits(max_members=10))
    assert len(StrictArchive(path, ArchiveLimits(max_members=11)).members) == 11


def test_total_size_cap(tmp_path: Path) -> None:
    path = _tar(tmp_path / "big.tar", ("a", b"x" * 600_000), ("b", b"x" * 600_000))
    with pytest.raises(ArchiveRefused) as err:
        StrictArchive(path, ArchiveLimits(max_bytes=1_000_000))
    assert err.value.code == "pack_too_big"


def test_tar_gz_bomb_is_refused_from_its_size(tmp_path: Path) -> None:
    path = _tar(tmp_path / "bomb.tar.gz", ("zeros", bytes(30 << 20)), gz=True)
    assert path.stat().st_size < 200_000
    with pytest.raises(ArchiveRefused) as err:
        StrictArchive(path, ArchiveLimits(max_ratio=50))
    assert err.value.code == "archive_bomb"


def test_zip_bomb_member_is_refused_before_inflating(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.bin", bytes(20 << 20))
    with pytest.raises(ArchiveRefused) as err:
        StrictArchive(path)
    assert err.value.code == "archive_bomb"


def test_zip_symlink_and_duplicates_are_refused(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("a/link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(ArchiveRefused, match="is a link"):
        StrictArchive(buf.getvalue())
    buf = io.BytesIO()
    with pytest.warns(UserWarning), zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "one")
        zf.writestr("a.txt", "two")
    with pytest.raises(ArchiveRefused, match="appears twice"):
        StrictArchive(buf.getvalue())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../up.txt", "x")
    with pytest.raises(ArchiveRefused, match="outside the pack"):
        StrictArchive(buf.getvalue())


@pytest.mark.parametrize("content", [b"", b"not an archive" * 50, gzip.compress(b"junk", mtime=0)],
                         ids=["empty", "text", "gzip-not-tar"])
def test_not_an_archive(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(content)
    with pytest.raises(ArchiveRefused, match="not a readable"):
        StrictArchive(path)
    with pytest.raises(ArchiveRefused, match="does not exist"):
        StrictArchive(tmp_path / "nowhere.tar")


def test_good_archive_reads_and_extracts_with_hashes(tmp_path: Path) -> None:
    blob = b"hello" * 1000
    path = _tar(tmp_path / "good.tar.gz", ("./pack/a.txt", blob), ("pack/b/c.bin", b"c"),
                gz=True)
    with StrictArchive(path) as archive:
        assert sorted(archive.members) == ["pack/a.txt", "pack/b/c.bin"]
        assert archive.read("pack/a.txt") == blob
        digest = hashlib.sha256(blob).hexdigest()
        assert archive.sha256("pack/a.txt") == digest
        staged = staging_dir(tmp_path / "dest")
        archive.extract_to(staged, {"pack/a.txt": digest, "pack/b/c.bin": None}, strip="pack/")
    assert (staged / "a.txt").read_bytes() == blob
    assert (staged / "b" / "c.bin").read_bytes() == b"c"


def test_extract_refuses_a_wrong_hash(tmp_path: Path) -> None:
    path = _tar(tmp_path / "good.tar", ("a.txt", b"abc"))
    with StrictArchive(path) as archive, pytest.raises(ArchiveRefused) as err:
        archive.extract_to(tmp_path / "stage", {"a.txt": "0" * 64})
    assert err.value.code == "bad_hash"


def test_swap_in_replaces_and_keeps_old_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "labs"
    target.mkdir()
    (target / "old.txt").write_text("old")
    staged = staging_dir(tmp_path)
    (staged / "new.txt").write_text("new")
    swap_in(staged, target)
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["labs"]
    with pytest.raises(OSError):
        swap_in(tmp_path / "vanished", target)
    assert (target / "new.txt").read_text() == "new"


def test_safe_name_normalises() -> None:
    assert safe_name("./a//b/./c") == "a/b/c"
    assert safe_name("./") is None
