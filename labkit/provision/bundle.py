"""A wheelhouse: one folder of wheels (and a few sdists) with a `SHA256SUMS` file.

The same format serves the SD image build, the Ansible playbook and `labkit update` on a USB
stick, so a kit installs only what was checked on the machine that built it. `SHA256SUMS` is
what `sha256sum` writes and `sha256sum -c` reads (`<hex>  <name>`), so an IT teacher can check
a stick by hand. A bundle on a stick may be the folder itself or a `.tar` / `.tar.gz` of it;
archives are unpacked with the standard library's `data` filter (no links, no absolute paths,
no `..`) into a fresh folder, then checked like a folder.
"""

from __future__ import annotations

import hashlib
import re
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from labkit.errors import LabkitError
from labkit.fsutil import atomic_write_text

SUMS_NAME = "SHA256SUMS"
ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip")
SUM_LINE = re.compile(r"([0-9a-f]{64}) [ *]((?:models/)?[^/\\]+)")
SUBFOLDERS = ("", "models")     # model wheels sit apart so pip --find-links never sees them
MAX_BUNDLE_BYTES = 8 * 1024 ** 3


class BundleError(LabkitError):
    """A wheelhouse that is incomplete, altered or not a wheelhouse at all."""

    def __init__(self, message: str, *, fix: str = "", code: str = "bad_bundle") -> None:
        super().__init__(message, fix=fix, code=code)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


CONSTRAINTS = re.compile(r"constraints-(x86_64|aarch64)-cp3\d+\.txt")


def is_archive(name: str) -> bool:
    """A file the wheelhouse lists in SHA256SUMS: a wheel, an sdist or a constraints file."""
    return name.endswith(ARCHIVE_SUFFIXES) or bool(CONSTRAINTS.fullmatch(name))


def constraints_for(folder: Path, machine: str, python: str) -> Path | None:
    """The lock's pins (name==version) for one platform, if the wheelhouse has them.

    One wheelhouse serves Python 3.11 and 3.13: without the pins, pip would take the newest
    pure-Python release in the folder even when it was locked for the other Python.
    """
    path = folder / f"constraints-{machine}-cp{python}.txt"
    return path if path.is_file() else None


def archives_in(folder: Path) -> list[str]:
    """Relative names of the wheels/sdists in the folder and its models/ sub-folder."""
    names = []
    for sub in SUBFOLDERS:
        base = folder / sub if sub else folder
        if base.is_dir():
            names += [f"{sub}/{p.name}" if sub else p.name for p in sorted(base.iterdir())
                      if p.is_file() and is_archive(p.name)]
    return names


def write_sums(folder: Path) -> Path:
    """(Re)write SHA256SUMS for every wheel/sdist in the folder, sorted by name."""
    lines = [f"{sha256_file(folder / name)}  {name}" for name in archives_in(folder)]
    return atomic_write_text(folder / SUMS_NAME, "\n".join(lines) + "\n")


def read_sums(folder: Path) -> dict[str, str]:
    path = folder / SUMS_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BundleError(f"{folder} has no SHA256SUMS file, so it is not a labkit wheelhouse",
                          fix="copy the whole wheelhouse folder made by "
                                        "`make wheelhouse` onto the stick") from None
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = SUM_LINE.fullmatch(line.strip())
        if not m:
            raise BundleError(f"{path} line {number} is not '<sha256>  <file name>'",
                              fix="make the wheelhouse again with `make wheelhouse`")
        sums[m.group(2)] = m.group(1)
    return sums


@dataclass(frozen=True)
class Verified:
    folder: Path
    files: dict[str, str]          # name -> sha256


def verify_folder(folder: Path) -> Verified:
    """Every listed file present with its hash, and no unlisted wheel beside them."""
    if not folder.is_dir():
        raise BundleError(f"{folder} is not a folder", fix="give the wheelhouse folder or its "
                                                           ".tar archive")
    sums = read_sums(folder)
    if not sums:
        raise BundleError(f"{folder}/SHA256SUMS lists no files", fix="make the wheelhouse again")
    bad: list[str] = []
    for name, digest in sums.items():
        path = folder / name
        if not path.is_file():
            bad.append(f"{name} is missing")
        elif sha256_file(path) != digest:
            bad.append(f"{name} does not match its sha256")
    extra = sorted(name for name in archives_in(folder) if name not in sums)
    bad += [f"{name} is not listed in SHA256SUMS" for name in extra]
    if bad:
        shown = "; ".join(bad[:3]) + (f" (and {len(bad) - 3} more)" if len(bad) > 3 else "")
        raise BundleError(f"the wheelhouse in {folder} is damaged: {shown}",
                          fix="copy it onto the stick again (and check it with: cd FOLDER && "
                              "sha256sum -c SHA256SUMS)")
    return Verified(folder, sums)


def unpack(path: Path, into: Path | None = None) -> Path:
    """A folder holding the bundle's files: `path` itself, or an archive unpacked safely."""
    if path.is_dir():
        return path
    if not path.is_file():
        raise BundleError(f"{path} does not exist", fix="check the path of the update file",
                          code="not_found")
    if path.stat().st_size > MAX_BUNDLE_BYTES:
        raise BundleError(f"{path} is larger than a labkit wheelhouse can be",
                          fix="check you picked the right file")
    target = Path(tempfile.mkdtemp(prefix="labkit-bundle-", dir=into))
    try:
        with tarfile.open(path) as tf:
            members = [m for m in tf.getmembers() if m.isfile()]
            for m in members:
                parts = Path(m.name).parts
                name = parts[-1]
                sub = "models/" if len(parts) > 1 and parts[-2] == "models" else ""
                if not (is_archive(name) or (name == SUMS_NAME and not sub)):
                    continue
                m.name = sub + name       # the bundle's own top folder name is dropped
                tf.extract(m, target, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise BundleError(f"{path} is not a readable .tar wheelhouse ({exc})",
                          fix="make the bundle with `make wheelhouse-bundle`") from None
    return target


def find_wheel(verified: Verified, project: str) -> tuple[str, Path]:
    """The single wheel of `project` in the bundle: (version, path)."""
    norm = re.sub(r"[-_.]+", "_", project).lower()
    found = []
    for name in verified.files:
        if name.endswith(".whl") and "/" not in name:
            dist, version = name.split("-")[:2]
            if re.sub(r"[-_.]+", "_", dist).lower() == norm:
                found.append((version, verified.folder / name))
    if len(found) != 1:
        raise BundleError(f"the wheelhouse has {len(found)} {project} wheels, not one",
                          fix="make the wheelhouse with `make wheelhouse`, which adds exactly one")
    return found[0]
