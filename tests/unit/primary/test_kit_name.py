"""The kit has one name for children: "AI 小盒子" (zh_CN). Older names that were mixed in
(套件, 实验盒, 实验箱, 实验小盒) must not come back in any catalogue or lab. (A bare 小盒子 was
also made "AI 小盒子" everywhere; it is not refused here, being a short form of the name.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from labkit.i18n import po_files

LABS = Path(__file__).resolve().parents[3] / "labkit" / "labs"
OLD_NAMES = re.compile(r"套件|实验盒|实验箱|实验小盒")


def _zh_texts(value: object) -> list[str]:
    """Every zh_CN string anywhere in a lab.yaml document."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "zh_CN" and isinstance(item, str):
                found.append(item)
            else:
                found.extend(_zh_texts(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_zh_texts(item))
    return found


def test_old_names_are_caught() -> None:
    """The pattern itself: it finds each old name and leaves the kit's name alone."""
    for text in ("请重启套件", "这台实验盒", "实验箱", "AI 实验小盒"):
        assert OLD_NAMES.search(text), text
    assert not OLD_NAMES.search("教 AI 小盒子认东西，红色盒子在左边")


@pytest.mark.parametrize("po", po_files("zh_CN"), ids=lambda p: p.parts[-4])
def test_catalogues_use_one_kit_name(po: Path) -> None:
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f)
    bad = [(m.id, m.string) for m in catalog if m.id and OLD_NAMES.search(str(m.string))]
    assert not bad, bad[:5]


def test_labs_use_one_kit_name() -> None:
    lab_files = sorted(LABS.glob("**/lab.yaml"))
    assert lab_files
    bad = []
    for path in lab_files:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        bad += [(path.parent.name, t) for t in _zh_texts(doc) if OLD_NAMES.search(t)]
    assert not bad, bad[:5]
