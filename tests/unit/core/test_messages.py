"""labkit.errors.Message: lower layers keep a message id, whoever shows it translates it — the
web app for the request's language, the CLI for LABKIT_LANG."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from labkit import bands
from labkit.errors import LabkitError, Message, lazy_gettext, use_translator
from labkit.store.problems import Problem

ZH = {"The %(what)s is empty.": "%(what)s是空的。", "project name": "项目名称"}


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    previous = use_translator(None)
    yield
    use_translator(previous)


def test_a_message_is_english_until_a_translator_is_installed() -> None:
    msg = lazy_gettext("The %(what)s is empty.", what=lazy_gettext("project name"))
    assert str(msg) == "The project name is empty."
    use_translator(lambda m: ZH.get(m, m))
    assert str(msg) == "项目名称是空的。"                 # nested messages translate too
    assert msg.render(lambda m: m) == "The project name is empty."
    assert str(lazy_gettext("between 5% and 50%.")) == "between 5% and 50%."   # no params
    assert msg == Message("The %(what)s is empty.", what=Message("project name"))


def test_an_error_reads_in_the_language_installed_when_it_is_shown() -> None:
    exc = LabkitError(lazy_gettext("The %(what)s is empty.", what=lazy_gettext("project name")),
                      fix="type one", code="bad_name")
    assert exc.message == str(exc) == "The project name is empty."
    use_translator(lambda m: ZH.get(m, m))
    assert exc.message == "项目名称是空的。" and exc.fix == "type one"
    assert exc.one_line() == "项目名称是空的。 — type one"
    plain = LabkitError("port 8080 is already in use")
    assert plain.message == "port 8080 is already in use" and plain.fix == ""


def test_a_message_param_is_escaped_in_a_template() -> None:
    from jinja2 import Environment

    env = Environment(autoescape=True)
    html = env.from_string("<p>{{ m }}</p>").render(m=lazy_gettext("Hi %(n)s", n="<b>x</b>"))
    assert html == "<p>Hi &lt;b&gt;x&lt;/b&gt;</p>"


def test_problem_keeps_its_message_id_and_translates() -> None:
    p = Problem("There is no lab called \"%(project)s\".", code="unknown_project", project="x")
    assert p.msgid.startswith("There is no lab") and p.params == {"project": "x"}
    assert p.message == 'There is no lab called "x".'
    use_translator(lambda m: "没有叫“%(project)s”的实验。" if m == p.msgid else m)
    assert p.message == "没有叫“x”的实验。"


@pytest.mark.parametrize("lang, expected", [("zh_CN", "没有叫“nope”的实验。"),
                                            ("en", 'There is no lab called "nope".')])
def test_the_cli_shows_messages_in_labkit_lang(lang: str, expected: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from labkit.cli import main
    from labkit.i18n import compile_all

    compile_all()
    monkeypatch.setenv("LABKIT_LANG", lang)
    res = CliRunner().invoke(main, ["run", "nope"])
    assert res.exit_code == 2, res.output
    assert expected in res.output


def test_json_errors_from_lower_layers_are_in_the_request_language(student_client: Any) -> None:
    """labkit.learn.names raises a Message; the page gets it in its own language."""
    def create(lang: str) -> dict[str, Any]:
        r = student_client.post(f"/api/learn/projects?lang={lang}",
                             json={"name": "", "kind": "image", "classes": ["猫", "狗"]})
        assert r.status_code == 400
        return r.get_json()["error"]

    zh, en = create("zh_CN"), create("en")
    assert zh["code"] == en["code"] == "bad_name"
    assert zh["message"] == "项目名称是空的。"
    assert en["message"] == "The project name is empty."


def test_messages_inside_json_bodies_are_rendered(app: Any) -> None:
    with app.test_request_context("/?lang=zh_CN"):
        body = app.json.dumps({"band": bands.band("creative").name})
    assert json.loads(body) == {"band": "创新实践"}


def test_bands_are_listed_once() -> None:
    assert bands.BANDS == ("experience", "cognition", "creative")
    assert bands.for_grade(1).id == "experience" and bands.for_grade(9).id == "cognition"
    assert bands.for_grade(12).id == "creative"
    with pytest.raises(LabkitError) as err:
        bands.band("innovation")
    assert err.value.code == "unknown_band" and "experience, cognition, creative" in err.value.fix
    with pytest.raises(LabkitError):
        bands.for_grade(13)


def test_vision_tasks_and_curriculum_schemas_use_the_bands() -> None:
    from pathlib import Path

    from labkit.curriculum import PACKAGE_CURRICULUM, _schema
    from labkit.web.vision import TASKS

    assert {t.band for t in TASKS.values()} <= set(bands.BANDS)
    for name in ("plan.schema.json",):   # lessons are lab folders (labkit/labs/lab.schema.json)
        assert _schema(Path(PACKAGE_CURRICULUM), name)["properties"]["band"]["enum"] == \
            list(bands.BANDS)
