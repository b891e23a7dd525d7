"""Chinese first: every message the code or templates show has a zh_CN translation."""

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


def test_core_strings_are_really_chinese():
    zh = i18n.merged("zh_CN")
    assert zh["Virtual bench"] == "虚拟实验台"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) or not text.isascii()
               or text == mid or not any(c.isalpha() for c in mid)
               for mid, text in zh.items() if text)
