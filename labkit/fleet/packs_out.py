"""An installed lab pack as a `.labpack` again, so a lead kit can push what it installed.

An installed pack keeps the exact bytes of its signed manifest and its signature next to its
files (labkit/packs/labpack.py), so the archive rebuilt here carries the publisher's own
signature: every kit that receives it verifies it against its own trusted keys, exactly as
from a USB drive. Nothing is signed here.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
from pathlib import Path

from labkit.errors import lazy_gettext as _
from labkit.packs import labpack


def installed_pack_file(data_dir: Path, pack_id: str, out_dir: Path) -> Path:
    """Write the current version of installed pack `pack_id` as a .labpack in `out_dir`."""
    store = labpack.PackStore(data_dir)
    entry = store.state().get(pack_id)
    if not entry or "current" not in entry:
        raise labpack.PackRefused(_("No pack called %(id)s is installed.", id=pack_id),
                                  code="unknown_pack")
    if entry.get("origin") == "package":
        raise labpack.PackRefused(_("The kit's own labs carry no publisher signature, so they "
                                    "are not pushed: every kit installs its own at start."),
                                  code="unsigned")
    folder = store.installed / pack_id / str(entry["current"])
    try:
        manifest = (folder / labpack.MANIFEST).read_bytes()
        signature = (folder / labpack.SIGNATURE).read_bytes()
        files = json.loads(manifest)["files"]
    except (OSError, ValueError, KeyError):
        raise labpack.PackRefused(_("The installed pack %(id)s is damaged; install it again "
                                    "from its drive.", id=pack_id), code="bad_pack") from None
    out_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{pack_id}-", suffix=labpack.SUFFIX, dir=out_dir)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w",
                                                      format=tarfile.PAX_FORMAT) as tf:
            tf.addfile(_info(labpack.MANIFEST, len(manifest)), io.BytesIO(manifest))
            tf.addfile(_info(labpack.SIGNATURE, len(signature)), io.BytesIO(signature))
            for rel in sorted(files):
                path = folder / rel
                with open(path, "rb") as fh:
                    tf.addfile(_info(labpack.CONTENT + rel, path.stat().st_size), fh)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        raise labpack.PackRefused(_("The installed pack %(id)s is damaged; install it again "
                                    "from its drive.", id=pack_id), code="bad_pack") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o644, 0
    return info
