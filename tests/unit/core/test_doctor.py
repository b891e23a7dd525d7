import json

from click.testing import CliRunner

from labkit.cli import main
from labkit.doctor import format_text, report, run_checks


def test_doctor_names_every_part(settings):
    findings = run_checks(settings)
    names = {f.name for f in findings}
    assert {"board", "camera", "pin factory", "microphone", "speaker", "espeak-ng", "free disk",
            "data dir", "wiring"} <= names
    text = format_text(findings)
    for f in findings:
        if not f.ok and f.fix:
            assert f"fix: {f.fix}" in text


def test_doctor_json_off_a_pi(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path / "d"))
    result = CliRunner().invoke(main, ["doctor", "--json"])
    data = json.loads(result.output)
    by_name = {f["name"]: f for f in data["findings"]}
    assert by_name["board"]["data"]["model"] is None
    assert by_name["pin factory"]["data"]["factory"] == "mock"
    assert by_name["data dir"]["ok"]


def test_doctor_reports_a_broken_wiring_file(settings):
    settings.ensure_data_dir()
    settings.wiring_file.write_text("devices:\n  a: {type: LED, pin: 17}\n  b: {type: LED, pin: 17}\n")
    wiring = next(f for f in run_checks(settings) if f.name == "wiring")
    assert not wiring.ok and "used twice" in wiring.detail and wiring.required
    assert report(run_checks(settings))["ok"] is False
