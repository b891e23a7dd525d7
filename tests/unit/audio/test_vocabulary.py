"""One list of command words (labkit.audio_ai.vocabulary): /audio, /learn sound projects and
the pages take them from there, and no other code in the package spells them out."""

from __future__ import annotations

import ast
from pathlib import Path

from labkit.audio_ai import vocabulary

PACKAGE = Path(vocabulary.__file__).resolve().parents[1]
GETTEXT = {"_", "gettext", "lazy_gettext", "_l", "ngettext", "N_"}


def _code_strings(path: Path) -> list[tuple[int, str]]:
    """String constants in a module that are neither docstrings nor catalogue message ids."""
    tree = ast.parse(path.read_text("utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skip.add(id(body[0].value))
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in GETTEXT):
            skip.update(id(a) for a in node.args)
    return [(n.lineno, n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant)
            and isinstance(n.value, str) and id(n) not in skip]


def test_no_module_but_the_vocabulary_spells_out_command_words() -> None:
    words = vocabulary.words()
    found = []
    for path in PACKAGE.rglob("*.py"):
        if path == Path(vocabulary.__file__).resolve() or "labs" in path.relative_to(PACKAGE).parts[:1]:
            continue
        for line, text in _code_strings(path):
            if any(w in text for w in words):
                found.append(f"{path.relative_to(PACKAGE)}:{line}: {text!r}")
    assert found == []


def test_the_check_above_can_fail(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text('"""开灯 in a docstring is fine."""\nWORDS = ["开灯", "x"]\n'
                     'hint = _("For example 开灯.")\n', "utf-8")
    assert [t for _line, t in _code_strings(probe)] == ["开灯", "x"]


def test_audio_and_learn_take_their_words_from_the_list(tmp_path: Path) -> None:
    from labkit.learn.dataset import ProjectStore
    from labkit.web.audio import DEFAULT_ACTIONS

    first, second = vocabulary.FIRST_WORDS
    assert DEFAULT_ACTIONS[first] == vocabulary.find(first).audio_action
    p = ProjectStore(tmp_path).create("口令", "sound", [first, second, "你好"])
    by_name = {c.name: c.id for c in p.classes}
    assert p.actions == {by_name[first]: vocabulary.find(first).learn_action,
                         by_name[second]: vocabulary.find(second).learn_action}
    assert ProjectStore(tmp_path).create("图", "image", [first, second]).actions == {}
