"""Export/import of model packs: round trip, and every kind of bad pack leaves the store as is."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any, Callable

import pytest

from labkit.models import ModelError, ModelStore
from labkit.models.packs import PACK_SUFFIX, export_pack, import_pack
from tests.unit.models.conftest import tree_hash


def _hashes(store: ModelStore) -> dict[str, Any]:
    return {e.name: (e.sha256, sorted((f.path, f.sha256) for f in e.files))
            for e in store.entries()}


def test_round_trip_into_clean_data_dir(make_store: Callable[..., Any], tmp_path: Path) -> None:
    src = make_store(("face_detection_short_range", "silero_vad", "pocketsphinx_en_us"))
    pack = export_pack(src, src.names(), tmp_path / "usb")
    assert pack.name.endswith(PACK_SUFFIX) and pack.parent == tmp_path / "usb"
    again = export_pack(src, src.names(), tmp_path / "usb2")
    assert again.read_bytes() == pack.read_bytes()           # deterministic pack
    dst = ModelStore(models_dir=tmp_path / "clean" / "data" / "models", threads=1)
    assert import_pack(dst, pack) == sorted(src.names())
    assert _hashes(dst) == _hashes(src)
    assert dst.verify() == {}
    for name in src.names():
        a = (src.models_dir / name)
        b = (dst.models_dir / name)
        assert tree_hash(a) == tree_hash(b)
        assert dst.info(name).licence == src.info(name).licence
    assert dst.load("face_detection_short_range").outputs[0].shape == (1, 896, 16)
    assert not [p for p in dst.models_dir.iterdir() if p.name.startswith(".import")]


def test_import_replaces_existing_model(make_store: Callable[..., Any], tmp_path: Path) -> None:
    src = make_store(("emotion_fer",), where="a")
    pack = export_pack(src, ["emotion_fer"], tmp_path / "usb")
    dst = make_store(("emotion_fer", "silero_vad"), where="b")
    (dst.models_dir / "emotion_fer" / "stale.txt").write_text("old")
    import_pack(dst, pack)
    assert not (dst.models_dir / "emotion_fer" / "stale.txt").exists()
    assert dst.names() == ["emotion_fer", "silero_vad"] and dst.verify() == {}


def test_export_refuses_damaged_model(make_store: Callable[..., Any], tmp_path: Path) -> None:
    store = make_store(("emotion_fer",))
    path = store.models_dir / "emotion_fer" / "emotion_model_quantized.tflite"
    path.write_bytes(path.read_bytes()[:-1] + b"\0")
    with pytest.raises(ModelError) as err:
        export_pack(store, ["emotion_fer"], tmp_path / "usb")
    assert err.value.code == "model_damaged"
    assert not (tmp_path / "usb").exists()


# -- bad packs ----------------------------------------------------------------------------------
def _good_parts(store: ModelStore) -> tuple[dict[str, Any], dict[str, bytes]]:
    entry = store.info("emotion_fer")
    manifest = {"format": 1, "models": {"emotion_fer": entry.to_dict()}}
    files = {f"emotion_fer/{f.path}": (store.models_dir / "emotion_fer" / f.path).read_bytes()
             for f in entry.files}
    return manifest, files


def _write_tar(path: Path, manifest: Any, files: dict[str, bytes],
               extra: Callable[[tarfile.TarFile], None] | None = None) -> Path:
    with tarfile.open(path, "w") as tf:
        data = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
        for name, blob in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tf.addfile(info, io.BytesIO(blob))
        if extra:
            extra(tf)
    return path


def _special(name: str, kind: bytes, linkname: str = "") -> Callable[[tarfile.TarFile], None]:
    def add(tf: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = linkname
        tf.addfile(info)
    return add


def _payload(name: str, blob: bytes = b"x" * 10) -> Callable[[tarfile.TarFile], None]:
    def add(tf: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(blob)
        tf.addfile(info, io.BytesIO(blob))
    return add


def _drop(d: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in keys}


BAD_PACKS = {
    "dotdot": (lambda m, f: (m, f, _payload("../evil.txt")), "outside the pack"),
    "dotdot_inside": (lambda m, f: (m, f, _payload("emotion_fer/../../evil.txt")),
                      "outside the pack"),
    "absolute": (lambda m, f: (m, f, _payload("/tmp/labkit-evil.txt")), "absolute path"),
    "symlink": (lambda m, f: (m, f, _special("emotion_fer/link", tarfile.SYMTYPE, "/etc/passwd")),
                "is a link"),
    "hardlink": (lambda m, f: (m, f, _special("emotion_fer/hard", tarfile.LNKTYPE,
                                              "manifest.json")), "is a link"),
    "device": (lambda m, f: (m, f, _special("emotion_fer/dev", tarfile.CHRTYPE)), "device"),
    "fifo": (lambda m, f: (m, f, _special("emotion_fer/fifo", tarfile.FIFOTYPE)), "device"),
    "missing_file": (lambda m, f: (m, {}, None), "has no such file"),
    "extra_file": (lambda m, f: (m, f, _payload("emotion_fer/unlisted.bin")),
                   "does not name"),
    "hash_mismatch": (lambda m, f: (m, {k: v[:-1] + bytes([v[-1] ^ 1]) for k, v in f.items()},
                                    None), "does not match its sha256"),
    "size_mismatch": (lambda m, f: (m, {k: v + b"\0" for k, v in f.items()}, None),
                      "the manifest says"),
    "missing_fields": (lambda m, f: ({"models": {"emotion_fer": _drop(
        m["models"]["emotion_fer"], "sha256", "source")}}, f, None), "lacks sha256, source"),
    "evil_name": (lambda m, f: ({"models": {"../x": {**m["models"]["emotion_fer"],
                                                      "name": "../x"}}}, f, None),
                  "not a valid model name"),
    "manifest_not_json": (lambda m, f: (b"{oops", f, None), "not valid JSON"),
    "no_models": (lambda m, f: ({"models": {}}, {}, None), "lists no models"),
}


@pytest.mark.parametrize("case", sorted(BAD_PACKS))
def test_bad_pack_is_refused_and_store_unchanged(case: str, make_store: Callable[..., Any],
                                                 tmp_path: Path) -> None:
    src = make_store(("emotion_fer",), where="src")
    dst = make_store(("silero_vad", "emotion_fer"), where="dst")
    # make the existing emotion_fer differ from the pack's, so a partial import would show
    (dst.models_dir / "emotion_fer" / "note.txt").write_text("kept")
    before = tree_hash(dst.models_dir)
    build, expect = BAD_PACKS[case]
    manifest, files = _good_parts(src)
    manifest, files, extra = build(manifest, files)
    pack = _write_tar(tmp_path / f"{case}{PACK_SUFFIX}", manifest, files, extra)
    with pytest.raises(ModelError) as err:
        import_pack(dst, pack)
    assert expect in err.value.message, err.value.message
    assert "nothing was changed" in err.value.fix
    assert tree_hash(dst.models_dir) == before
    assert not Path("/tmp/labkit-evil.txt").exists()
    assert not (tmp_path / "evil.txt").exists()


def test_pack_over_size_cap(make_store: Callable[..., Any], tmp_path: Path) -> None:
    src = make_store(("silero_vad",), where="src")
    dst = make_store(("emotion_fer",), where="dst")
    pack = export_pack(src, ["silero_vad"], tmp_path / "usb")
    before = tree_hash(dst.models_dir)
    with pytest.raises(ModelError) as err:
        import_pack(dst, pack, max_bytes=1_000_000)
    assert err.value.code == "pack_too_big"
    assert tree_hash(dst.models_dir) == before


@pytest.mark.parametrize("content", [b"", b"not a tar at all" * 100])
def test_not_a_tar(content: bytes, make_store: Callable[..., Any], tmp_path: Path) -> None:
    dst = make_store(("emotion_fer",))
    before = tree_hash(dst.models_dir)
    bad = tmp_path / f"junk{PACK_SUFFIX}"
    bad.write_bytes(content)
    with pytest.raises(ModelError) as err:
        import_pack(dst, bad)
    assert err.value.code == "bad_pack"
    with pytest.raises(ModelError):
        import_pack(dst, tmp_path / "nowhere.tar")
    assert tree_hash(dst.models_dir) == before


def test_failure_during_swap_rolls_back(make_store: Callable[..., Any], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    src = make_store(("emotion_fer", "silero_vad"), where="src")
    pack = export_pack(src, ["emotion_fer", "silero_vad"], tmp_path / "usb")
    dst = make_store(("emotion_fer", "silero_vad"), where="dst")
    (dst.models_dir / "emotion_fer" / "note.txt").write_text("kept")
    (dst.models_dir / "silero_vad" / "note.txt").write_text("kept")
    before = tree_hash(dst.models_dir)
    from labkit.models import packs

    def boom(*a: Any, **k: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(packs, "write_manifest", boom)
    with pytest.raises(OSError):
        import_pack(dst, pack)
    assert tree_hash(dst.models_dir) == before
