"""What a start or a student program loads only on first use (cold start), without timing.

Importing one driver module must not load the camera and audio stacks, one learn module must
not load the trainer; the web app must load neither the HTTP client used only between kits,
the signature checks of lab packs and paired kits, nor the /learn trainer; the CLI loads its
command groups on first use, and URL builders are compiled on first `url_for`. Import checks
run in a fresh interpreter through `sys.modules`; the lazy names must resolve to the very
same objects.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from werkzeug.routing import Map, Rule

from labkit.web.lazy_rules import LazyBuildRule
from tests.helpers import REPO, labkit_env


def _modules_after(code: str, tmp_path) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    env = labkit_env(tmp_path / "data")
    env["PYTHONPATH"] = str(REPO)
    out = subprocess.run([sys.executable, "-c", probe], cwd=str(REPO), env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_one_driver_module_does_not_load_camera_or_audio(tmp_path):
    loaded = _modules_after("import labkit.drivers.pins", tmp_path)
    assert not loaded & {"cv2", "numpy", "labkit.drivers.camera", "labkit.drivers.audio"}


def test_the_driver_names_load_on_first_use(tmp_path):
    loaded = _modules_after("from labkit.drivers import Camera", tmp_path)
    assert "labkit.drivers.camera" in loaded and "labkit.drivers.audio" not in loaded


def test_a_dataset_does_not_load_the_trainer(tmp_path):
    loaded = _modules_after("import labkit.learn.dataset", tmp_path)
    assert not loaded & {"labkit.learn.model", "labkit.learn.features",
                         "labkit.learn.exchange", "labkit.models.trainable"}


def test_web_start_loads_no_kit_to_kit_client_signatures_or_trainer(tmp_path):
    loaded = _modules_after("from labkit.web import create_app\n"
                            "c = create_app().test_client()\n"
                            "assert c.get('/healthz').status_code == 200", tmp_path)
    assert not loaded & {"requests", "cryptography", "labkit.learn.service", "labkit.learn.model",
                         "labkit.learn.exchange", "labkit.models"}


def test_lazy_package_names_are_the_real_objects():
    import labkit.drivers as drivers
    import labkit.learn as learn
    from labkit.drivers import audio, camera
    from labkit.learn import dataset, exchange, features, model

    assert (drivers.Camera, drivers.Frame) == (camera.Camera, camera.Frame)
    assert (drivers.Microphone, drivers.Speaker) == (audio.Microphone, audio.Speaker)
    homes = {**vars(dataset), **vars(exchange), **vars(features), **vars(model)}
    for name in learn.__all__:
        assert getattr(learn, name) is homes[name], name
    assert set(drivers.__all__) <= set(dir(drivers))
    with pytest.raises(AttributeError):
        learn.no_such_name  # noqa: B018
    with pytest.raises(AttributeError):
        drivers.no_such_name  # noqa: B018


RULES = [
    ("/", "home", {}),
    ("/labs/<slug>", "lab", {"slug": "光与影 1"}),
    ("/p/<int:pid>/s/<path:rest>", "sample", {"pid": 7, "rest": "a/b c.png"}),
    ("/page/<int:n>", "paged", {"n": 2}),
    ("/files/<name>.<any(png, jpg):ext>", "file", {"name": "x", "ext": "jpg"}),
]


def _map(rule_class: type[Rule]) -> Map:
    rules = [rule_class(path, endpoint=endpoint) for path, endpoint, _ in RULES]
    rules.append(rule_class("/page/", endpoint="paged", defaults={"n": 1}))
    return Map(rules)


@pytest.mark.parametrize("append_unknown", [True, False])
def test_lazy_rules_build_the_same_urls(append_unknown):
    plain = _map(Rule).bind("kit.local", "/")
    lazy = _map(LazyBuildRule).bind("kit.local", "/")
    cases = [(endpoint, values) for _, endpoint, values in RULES]
    cases += [("paged", {"n": 1}), ("lab", {"slug": "a", "lang": "en", "q": ["1", "2"]})]
    for endpoint, values in cases:
        for _ in range(2):      # the first call compiles, the second reuses
            assert (lazy.build(endpoint, values, append_unknown=append_unknown)
                    == plain.build(endpoint, values, append_unknown=append_unknown))
    assert lazy.match("/labs/x") == plain.match("/labs/x")


def test_lazy_rules_compile_a_builder_only_when_building(monkeypatch):
    calls: list[str] = []
    real = Rule._compile_builder

    def counting(rule: Rule, append_unknown: bool = True):
        calls.append(rule.endpoint)
        return real(rule, append_unknown)

    monkeypatch.setattr(Rule, "_compile_builder", counting)
    adapter = _map(LazyBuildRule).bind("kit.local", "/")
    assert calls == []
    adapter.build("lab", {"slug": "a"})
    adapter.build("lab", {"slug": "b"})
    assert calls == ["lab"]
    assert adapter.build("lab", {"slug": "a", "x": "1"}) == "/labs/a?x=1"
    assert calls == ["lab"]
    assert adapter.build("lab", {"slug": "a", "x": "1"}, append_unknown=False) == "/labs/a"
    assert calls == ["lab", "lab"]              # the other builder, dropping unknown arguments


def test_the_app_uses_lazy_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path / "data"))
    from labkit.config import Settings
    from labkit.web import create_app

    app = create_app(Settings.from_env())
    try:
        own = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
        assert own and all(isinstance(r, LazyBuildRule) for r in own)
        with app.test_request_context():
            from flask import url_for
            assert url_for("static", filename="a b.js") == "/static/a%20b.js"
            rule = next(r for r in own if not r.arguments and "GET" in (r.methods or ()))
            assert url_for(rule.endpoint) == rule.rule
    finally:
        app.extensions["labkit"].close()


def test_the_cli_loads_its_command_groups_on_first_use(tmp_path):
    loaded = _modules_after("import labkit.cli", tmp_path)
    assert not loaded & {"labkit.models.cli", "labkit.provision.cli", "labkit.projects.packcli",
                         "labkit.store.cli", "babel.messages.extract", "numpy"}


def test_every_command_is_listed_and_runs():
    from click.testing import CliRunner

    from labkit.cli import LAZY_COMMANDS, main

    out = CliRunner().invoke(main, ["--help"])
    assert out.exit_code == 0, out.output
    listed = {line.split()[0] for line in out.output.split("Commands:")[1].splitlines()
              if line.strip()}
    assert set(LAZY_COMMANDS) | {"serve", "doctor", "version"} <= listed
    for name in LAZY_COMMANDS:
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, (name, result.output)
    assert CliRunner().invoke(main, ["no-such-command"]).exit_code == 2
