"""Chinese first: every message the code or templates show has a zh_CN translation."""

import re

from labkit import i18n


def test_every_used_message_has_a_chinese_translation():
    missing = i18n.untranslated("zh_CN")
    assert not missing, "untranslated in zh_CN:\n" + "\n".join(
        f"  {mid!r} ({where[0]})" for mid, where in sorted(missing.items()))


def test_catalogues_compile(tmp_path, monkeypatch):
    assert i18n.catalogue_dirs(), "no translation areas found"
    i18n.compile_all()
    for po in i18n.po_files():
        assert po.with_suffix(".mo").exists()


def test_translations_are_really_chinese():
    """A zh_CN entry for an English phrase must contain Chinese, not a copy of the English
    (single tokens such as units — dBFS, Hz — may stay as they are)."""
    zh = i18n.merged("zh_CN")
    assert zh["Virtual bench"] == "虚拟实验台"
    phrase, chinese = re.compile("[A-Za-z]{2,}[ ,]+[A-Za-z]{2,}"), re.compile("[\u4e00-\u9fff]")
    not_chinese = {mid: text for mid, text in zh.items()
                   if text and phrase.search(mid) and not chinese.search(text)}
    assert not not_chinese, not_chinese
