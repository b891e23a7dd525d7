"""Class and project names a student types: Chinese welcome, path tricks and clashes refused."""

from __future__ import annotations

import pytest

from labkit.errors import LabkitError
from labkit.learn.names import check_class_names, clean_name


def test_chinese_and_english_names_are_kept() -> None:
    assert check_class_names(["  苹果 ", "banana", "石头 剪刀"]) == ["苹果", "banana", "石头 剪刀"]


@pytest.mark.parametrize("bad", ["", "   ", "a/b", "../x", "..", "a\\b", "x..y", "tab\there",
                                 "zero\u200bwidth", "bell\x07", "a" * 41, 3, None])
def test_bad_names_are_refused(bad: object) -> None:
    with pytest.raises(LabkitError) as err:
        clean_name(bad)
    assert err.value.code == "bad_name"
    assert err.value.fix


@pytest.mark.parametrize("names", [["Cat", "cat"], ["猫", " 猫"], ["ＡＢ", "ab"]])
def test_duplicate_names_ignore_case_and_width(names: list[str]) -> None:
    with pytest.raises(LabkitError) as err:
        check_class_names(names)
    assert err.value.code == "duplicate_class"


def test_one_class_only_and_too_many_classes() -> None:
    with pytest.raises(LabkitError) as err:
        check_class_names(["只有一个"])
    assert err.value.code == "too_few_classes"
    with pytest.raises(LabkitError) as err:
        check_class_names([f"c{i}" for i in range(7)])
    assert err.value.code == "too_many_classes"
