"""Projects on disk: atomic samples, limits with clear messages, damaged manifests repaired."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from labkit.errors import LabkitError
from labkit.learn import dataset as D
from labkit.learn.dataset import ProjectStore


def window(v: float = 0.5) -> dict:
    return {"channels": ["distance", "light"], "values": [[v, 0.2], [v + 0.1, 0.3]], "rate": 10}


def test_create_add_delete_and_reload(projects: ProjectStore) -> None:
    p = projects.create("我的分类器", "image", ["苹果", "香蕉"])
    img = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    s = p.add_sample(p.classes[0].id, img)
    path = p.sample_path(s.id)
    assert path.parent.parent.name == "classes" or path.parent.name == p.classes[0].id
    assert path.suffix == ".jpg" and path.stat().st_size > 0
    assert not path.read_bytes().startswith(b"\xff\xd8")       # sealed at rest
    stored = D.decode_image(p.sealer.read(path))
    assert max(stored.shape[:2]) == D.STORE_IMAGE_SIDE          # downscaled before keeping
    again = ProjectStore(projects.root.parent).get(p.id)        # a fresh process
    assert again.counts() == {"苹果": 1, "香蕉": 0}
    assert again.name == "我的分类器"
    p.delete_sample(s.id)
    assert not path.exists() and p.counts()["苹果"] == 0
    assert [x["id"] for x in projects.list()] == [p.id]


def test_class_names_never_become_paths(projects: ProjectStore) -> None:
    p = projects.create("x", "sensor", ["a", "b"])
    with pytest.raises(LabkitError):
        p.add_class("../../etc")
    with pytest.raises(LabkitError) as err:
        p.add_class("A")
    assert err.value.code == "duplicate_class"
    info = p.add_class("猫/狗".replace("/", "和"))
    assert p.class_dir(info.id).name.startswith("c") and p.class_dir(info.id).parent.parent == p.root


def test_duplicate_and_single_class_projects_are_refused(projects: ProjectStore) -> None:
    with pytest.raises(LabkitError) as err:
        projects.create("x", "image", ["Dog", "dog"])
    assert err.value.code == "duplicate_class"
    with pytest.raises(LabkitError) as err:
        projects.create("x", "image", ["dog"])
    assert err.value.code == "too_few_classes"
    with pytest.raises(LabkitError):
        projects.create("x", "smell", ["a", "b"])
    assert projects.list() == []


def test_sample_limits_are_enforced_with_a_clear_message(projects: ProjectStore) -> None:
    """1000+ samples: the per-class cap (500) and the project cap (1000) say what to do."""
    p = projects.create("limits", "sensor", ["a", "b", "c"])
    a, b, c = (x.id for x in p.classes)
    for _ in range(D.MAX_PER_CLASS):
        p.add_sample(a, window())
    with pytest.raises(LabkitError) as err:
        p.add_sample(a, window())
    assert err.value.code == "too_many_samples" and "500" in err.value.message
    for _ in range(D.MAX_PER_CLASS):
        p.add_sample(b, window())
    with pytest.raises(LabkitError) as err:
        p.add_sample(c, window())
    assert err.value.code == "too_many_samples" and "1000" in err.value.message
    assert p.total == 1000
    reloaded = ProjectStore(projects.root.parent).get(p.id)
    assert reloaded.total == 1000                               # nothing lost, nothing extra


def test_uploads_are_checked_before_anything_is_kept(projects: ProjectStore) -> None:
    p = projects.create("u", "image", ["a", "b"])
    cid = p.classes[0].id
    for bad in (b"", b"%PDF-1.4 not an image", b"\x89PNG\r\n\x1a\n broken"):
        with pytest.raises(LabkitError) as err:
            p.add_upload(cid, bad, "x.png")
        assert err.value.code == "bad_image"
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8000, 6000)).save(buf, "PNG")               # 48 MP, small file
    with pytest.raises(LabkitError) as err:
        p.add_upload(cid, buf.getvalue(), "huge.png")
    assert err.value.code == "too_large"
    assert p.total == 0 and not any(p.class_dir(cid).glob("s*"))
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "PNG")
    p.add_upload(cid, buf.getvalue(), "ok.png")
    assert p.total == 1


def test_sound_and_sensor_samples_are_validated(projects: ProjectStore) -> None:
    from labkit.drivers.wav import wav_bytes

    snd = projects.create("s", "sound", ["开灯", "关灯"])
    tone = (3000 * np.sin(np.linspace(0, 400 * np.pi, 16000))).astype(np.int16)
    snd.add_upload(snd.classes[0].id, wav_bytes(tone), "a.wav")
    with pytest.raises(LabkitError):
        snd.add_upload(snd.classes[0].id, b"RIFF....WAVEfmt nonsense", "b.wav")
    with pytest.raises(LabkitError):
        snd.add_upload(snd.classes[0].id, wav_bytes(np.zeros(16000 * 6, np.int16)), "long.wav")
    sen = projects.create("t", "sensor", ["near", "far"])
    for bad in ({"channels": ["d"], "values": [[1.0]]}, {"channels": [], "values": []},
                {"channels": ["d"], "values": [[1.0], [float("nan")]]}, [1, 2]):
        with pytest.raises(LabkitError):
            sen.add_sample(sen.classes[0].id, bad)
    with pytest.raises(LabkitError):
        sen.add_upload(sen.classes[0].id, b"not json", "x.json")
    assert snd.total == 1 and sen.total == 0


def _corrupt(projects: ProjectStore, content: bytes) -> tuple[str, list[Path]]:
    p = projects.create("坏掉的项目", "image", ["圆", "方"])
    img = np.full((40, 40, 3), 100, np.uint8)
    for c in p.classes:
        for _ in range(3):
            p.add_sample(c.id, img)
    files = sorted(p.root.rglob("s*.jpg"))
    (p.root / "project.json").write_bytes(content)
    return p.id, files


@pytest.mark.parametrize("content", [b"{ half a json", b"[]", json.dumps(
    {"format": D.FORMAT, "id": "p1", "name": "x", "kind": "image", "created": "",
     "classes": "oops"}).encode()])
def test_corrupt_dataset_is_reported_and_repaired_without_loss(projects: ProjectStore,
                                                               content: bytes) -> None:
    pid, files = _corrupt(projects, content)
    fresh = ProjectStore(projects.root.parent)
    with pytest.raises(LabkitError) as err:
        fresh.get(pid)
    assert err.value.code == "corrupt_dataset"
    assert "Nothing was deleted" in err.value.message and "Repair" in err.value.fix
    listed = fresh.list()
    assert listed[0]["id"] == pid and listed[0]["code"] == "corrupt_dataset"
    assert all(f.exists() for f in files)                       # nothing lost
    repaired = fresh.repair(pid)
    assert sorted(c.name for c in repaired.classes) == ["圆", "方"]
    assert repaired.total == 6 and repaired.kind == "image"
    assert list(repaired.root.glob("project.json.damaged-*"))   # the broken file is kept
    assert ProjectStore(projects.root.parent).get(pid).total == 6


def test_unknown_project_ids_are_not_paths(projects: ProjectStore) -> None:
    for bad in ("../etc", "p/../../x", "", "pABC", "x123"):
        with pytest.raises(LabkitError) as err:
            projects.get(bad)
        assert err.value.code == "not_found"
