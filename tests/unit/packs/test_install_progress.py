"""Installing a pack reports its stages in order (signature → archive → installing) with the
content bytes hashed, then written, counted up to the whole; a refused pack stops there."""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.packs import labpack, signing
from labkit.packs.labpack import PackRefused
from tests.unit.packs.test_labpack import make_source


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name in ("publisher", "stranger"):
        priv = tmp_path / "keys" / f"{name}.key"
        (tmp_path / "keys" / f"{name}.pub").parent.mkdir(parents=True, exist_ok=True)
        pub = signing.generate(priv)
        (tmp_path / "keys" / f"{name}.pub").write_text(signing.public_text(pub))
        out[name] = priv
    return out


@pytest.fixture
def store(tmp_path: Path) -> labpack.PackStore:
    return labpack.PackStore(tmp_path / "data", builtin_key=tmp_path / "keys" / "publisher.pub")


def test_progress_counts_every_content_byte_twice_in_order(tmp_path: Path, keys: dict,
                                                           store: labpack.PackStore) -> None:
    src = make_source(tmp_path, extra=lambda s: (s / "media" / "film.bin").write_bytes(
        bytes(range(256)) * 4096))                         # 1 MB: several chunks
    pack = labpack.build_pack(src, keys["publisher"], tmp_path / "usb")
    heard: list[tuple[str, int, int]] = []
    info = store.install(pack, vet=None, progress=lambda *a: heard.append(a))
    total = sum(rec["size"] for rec in info.files.values())
    assert total > 1 << 20
    stages = [s for s, _d, _t in heard]
    assert stages[0] == "signature"
    first = {s: stages.index(s) for s in ("archive", "installing")}
    assert first["archive"] < first["installing"]
    assert set(stages) == {"signature", "archive", "installing"}
    for stage in ("archive", "installing"):
        done = [d for s, d, t in heard if s == stage]
        assert all(t == total for s, _d, t in heard if s == stage)
        assert done == sorted(done) and done[0] == 0 and done[-1] == total
        assert len(done) > 3                             # moves during the stage, not at its end


def test_a_refused_pack_never_reaches_installing(tmp_path: Path, keys: dict,
                                                 store: labpack.PackStore) -> None:
    pack = labpack.build_pack(make_source(tmp_path), keys["stranger"], tmp_path / "usb")
    heard: list[str] = []
    with pytest.raises(PackRefused) as err:
        store.install(pack, vet=None, progress=lambda s, d, t: heard.append(s))
    assert err.value.code == "untrusted_key"
    assert "installing" not in heard and not store.installed.exists()
