"""One strict reader for every archive that comes from outside the kit.

Model packs (`labkit models import`), lab packs (`labkit pack install`) and models exported by
another kit (`/api/learn/import`) all arrive on a USB stick or as an upload that went through
many hands. So, before a single byte is written, every member is checked: a relative path with
no `..`, no absolute or drive-letter names, no backslashes or NULs; regular files only (no
symlinks, hard links, devices, FIFOs, sparse files); no name twice; at most `max_members`
members and `max_bytes` unpacked bytes; and an unpacked size at most `max_ratio` times the
archive's own size (a zip or tar.gz bomb is refused from its headers, before it is inflated).

Writing is staged: `extract_to` writes into a fresh temporary folder next to the target
(hashing while it writes, because the stick can change between the check and the copy), and
`swap_in` renames it into place, keeping the old folder until the new one is there; any
refusal leaves the target exactly as it was.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import stat
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Callable, Iterator, Mapping, Union

from labkit.errors import LabkitError, Message, lazy_gettext as _

_CHUNK = 1 << 20
Source = Union[Path, bytes]


@dataclass(frozen=True)
class ArchiveLimits:
    """What one archive may hold."""

    max_members: int = 20_000
    max_bytes: int = 4 * 1024**3
    max_ratio: float = 200.0


class ArchiveRefused(LabkitError):
    """An archive that failed a check; nothing was written."""

    def __init__(self, message: Message, *, code: str = "bad_archive") -> None:
        super().__init__(
            message, fix=_("Nothing was changed; make the archive again on a working kit."), code=code
        )


@dataclass(frozen=True)
class Member:
    """One regular file of the archive, by its safe relative name."""

    name: str
    size: int
    packed: int


def safe_name(name: str) -> str | None:
    """The member's normalised relative name (None for '.'); raise for anything unsafe."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise ArchiveRefused(_("Member %(name)s has an absolute path.", name=repr(name)))
    parts = [p for p in PurePosixPath(name).parts if p not in ("", ".")]
    if ".." in parts or "\\" in name or "\x00" in name:
        raise ArchiveRefused(_("Member %(name)s points outside the pack (..).", name=repr(name)))
    return "/".join(parts) or None


def _special(name: str) -> ArchiveRefused:
    return ArchiveRefused(_("Member %(name)s is a device, FIFO or other special file.", name=repr(name)))


def _link(name: str) -> ArchiveRefused:
    return ArchiveRefused(_("Member %(name)s is a link; packs hold only regular files.", name=repr(name)))


class StrictArchive:
    """A checked tar (plain or compressed) or zip archive, opened from a path or bytes.

    Opening it checks every member; `members` then holds only regular files, by safe name.
    """

    def __init__(self, source: Source, limits: ArchiveLimits = ArchiveLimits()) -> None:
        self.limits = limits
        self._zip: zipfile.ZipFile | None = None
        self._tar: tarfile.TarFile | None = None
        self._infos: dict[str, object] = {}
        self.members: dict[str, Member] = {}
        if isinstance(source, (bytes, bytearray)):
            self._size = len(source)
            self._raw: IO[bytes] = io.BytesIO(bytes(source))
        else:
            path = Path(source)
            try:
                self._size = path.stat().st_size
                self._raw = open(path, "rb")
            except OSError:
                raise ArchiveRefused(
                    _("%(name)s does not exist or cannot be read.", name=path.name)
                ) from None
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    # -- opening and checking ------------------------------------------------------------------
    def _open(self) -> None:
        if zipfile.is_zipfile(self._raw):
            self._raw.seek(0)
            try:
                self._zip = zipfile.ZipFile(self._raw)
                self._check_zip(self._zip)
            except (zipfile.BadZipFile, ValueError, EOFError):
                raise self._unreadable() from None
            return
        self._raw.seek(0)
        try:
            self._tar = tarfile.open(fileobj=self._raw, mode="r:*")
            self._check_tar(self._tar)
        except (tarfile.TarError, EOFError, OSError, ValueError):
            raise self._unreadable() from None

    @staticmethod
    def _unreadable() -> ArchiveRefused:
        return ArchiveRefused(_("It is not a readable tar or zip archive."))

    def _add(self, name: str, size: int, packed: int, info: object) -> None:
        if len(self._infos) >= self.limits.max_members:
            raise ArchiveRefused(_("It has more than %(count)s members.", count=self.limits.max_members))
        if name in self.members:
            raise ArchiveRefused(_("Member %(name)s appears twice.", name=repr(name)))
        total = sum(m.size for m in self.members.values()) + size
        if total > self.limits.max_bytes:
            raise ArchiveRefused(
                _("It is larger than the %(mb)s MB limit.", mb=self.limits.max_bytes >> 20),
                code="pack_too_big",
            )
        if total > 1 << 20 and total > self.limits.max_ratio * max(self._size, 1):
            raise ArchiveRefused(
                _(
                    "It unpacks to more than %(ratio)s times its own size (an archive bomb).",
                    ratio=int(self.limits.max_ratio),
                ),
                code="archive_bomb",
            )
        self.members[name] = Member(name, size, packed)
        self._infos[name] = info

    def _check_tar(self, tf: tarfile.TarFile) -> None:
        seen = 0
        for info in tf:
            seen += 1
            if seen > self.limits.max_members:
                raise ArchiveRefused(_("It has more than %(count)s members.", count=self.limits.max_members))
            name = safe_name(info.name)
            if info.issym() or info.islnk():
                raise _link(info.name)
            if info.isdir() or name is None:
                continue
            if not info.isfile() or info.issparse():
                raise _special(info.name)
            self._add(name, info.size, info.size, info)

    def _check_zip(self, zf: zipfile.ZipFile) -> None:
        infos = zf.infolist()
        if len(infos) > self.limits.max_members:
            raise ArchiveRefused(_("It has more than %(count)s members.", count=self.limits.max_members))
        for info in infos:
            name = safe_name(info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise _link(info.filename)
            if info.is_dir() or name is None:
                continue
            if stat.S_IFMT(mode) and not stat.S_ISREG(mode):  # no type bits: a plain file
                raise _special(info.filename)
            if info.flag_bits & 0x1:
                raise ArchiveRefused(_("Member %(name)s is encrypted.", name=repr(info.filename)))
            if info.file_size > 1 << 20 and info.file_size > self.limits.max_ratio * max(
                info.compress_size, 1
            ):
                raise ArchiveRefused(
                    _(
                        "It unpacks to more than %(ratio)s times its own size (an archive bomb).",
                        ratio=int(self.limits.max_ratio),
                    ),
                    code="archive_bomb",
                )
            self._add(name, info.file_size, info.compress_size, info)

    # -- reading -------------------------------------------------------------------------------
    def open_member(self, name: str) -> IO[bytes]:
        """A reader for one member that never yields more than its declared size + 1 bytes."""
        info = self._infos[name]
        if self._zip is not None:
            return self._zip.open(info)  # type: ignore[arg-type]
        assert self._tar is not None
        fh = self._tar.extractfile(info)  # type: ignore[arg-type]
        if fh is None:
            raise ArchiveRefused(_("Member %(name)s cannot be read.", name=repr(name)))
        return fh

    def chunks(self, name: str) -> Iterator[bytes]:
        """The member's bytes in chunks, refusing it if it is longer than its header said."""
        limit, got = self.members[name].size, 0
        try:
            with self.open_member(name) as fh:
                while chunk := fh.read(_CHUNK):
                    got += len(chunk)
                    if got > limit:
                        raise ArchiveRefused(_("Member %(name)s is longer than it says.", name=repr(name)))
                    yield chunk
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError):
            raise ArchiveRefused(_("Member %(name)s cannot be read.", name=repr(name))) from None

    def read(self, name: str, max_bytes: int | None = None) -> bytes:
        if max_bytes is not None and self.members[name].size > max_bytes:
            raise ArchiveRefused(_("Member %(name)s is implausibly large.", name=repr(name)))
        return b"".join(self.chunks(name))

    def sha256(self, name: str) -> str:
        h = hashlib.sha256()
        for chunk in self.chunks(name):
            h.update(chunk)
        return h.hexdigest()

    # -- writing -------------------------------------------------------------------------------
    def extract_to(self, staging: Path, wanted: Mapping[str, str | None], *, strip: str = "",
                   on_bytes: Callable[[int], None] | None = None) -> None:
        """Write the `wanted` members (name → sha256 or None) under `staging`, hashing each
        as it is written; `strip` is a leading folder removed from each name; `on_bytes`
        hears how many bytes each chunk written held (for a progress bar)."""
        for name, digest in wanted.items():
            if name not in self.members:
                raise ArchiveRefused(_("Member %(name)s is missing.", name=repr(name)))
            rel = name[len(strip) :] if strip and name.startswith(strip) else name
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
            h = hashlib.sha256()
            with open(target, "xb") as out:
                for chunk in self.chunks(name):
                    h.update(chunk)
                    out.write(chunk)
                    if on_bytes is not None:
                        on_bytes(len(chunk))
            target.chmod(0o644)
            if digest is not None and h.hexdigest() != digest:
                raise ArchiveRefused(
                    _("Member %(name)s does not match its sha256 (damaged or altered).", name=repr(name)),
                    code="bad_hash",
                )

    def close(self) -> None:
        for closable in (self._zip, self._tar, getattr(self, "_raw", None)):
            if closable is not None:
                closable.close()

    def __enter__(self) -> "StrictArchive":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def staging_dir(parent: Path, prefix: str = ".staging-") -> Path:
    """A fresh folder on the target's file system, so the final rename is atomic."""
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))


def swap_in(staged: Path, target: Path) -> None:
    """Put `staged` at `target` by rename; the old `target` is kept until the new one is in
    place and put back if the rename fails."""
    old = target.with_name(f".old-{target.name}-{staged.name}")
    had_old = target.exists()
    if had_old:
        target.rename(old)
    try:
        staged.rename(target)
    except BaseException:
        if had_old:
            old.rename(target)
        raise
    if had_old:
        shutil.rmtree(old, ignore_errors=True)


__all__ = [
    "ArchiveLimits",
    "ArchiveRefused",
    "Member",
    "StrictArchive",
    "safe_name",
    "staging_dir",
    "swap_in",
]
