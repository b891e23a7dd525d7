"""`labkit pipeline run|check|enable|disable|list` as a teacher or a boot script uses them,
and the output lock that keeps a pipeline's process and the kit's server off each other's pins.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import LABKIT, REPO, labkit_env, start_server

EXAMPLES = REPO / "labkit" / "pipeline" / "examples"


def kit_data(tmp_path: Path, name: str, model_store: Any = None) -> Path:
    data = tmp_path / name
    data.mkdir()
    if model_store is not None:
        (data / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    return data


def lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def changes(out: str, device: str) -> list[Any]:
    return [e["value"] for e in lines(out) if e.get("device") == device]


def test_each_example_run_in_sim_drives_the_pins_it_says(tmp_path: Path, model_store: Any
                                                         ) -> None:
    """All three examples at once, each in its own process and data dir, on its demo."""
    procs = {}
    for name in ("queue_alarm", "button_fan", "dry_soil"):
        data = kit_data(tmp_path, name, model_store if name == "queue_alarm" else None)
        procs[name] = subprocess.Popen(
            LABKIT + ["pipeline", "run", str(EXAMPLES / f"{name}.yaml"), "--demo",
                      "--seconds", "40"],
            env=labkit_env(data), cwd=str(REPO), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
    outs = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        outs[name] = out
    red, green, off = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]
    # one face: green; a group of two: red, and the kit asks them to queue; nobody: green;
    # stopped: off
    rgb = changes(outs["queue_alarm"], "rgb")
    assert rgb[0] == green and red in rgb and rgb[rgb.index(red) + 1] == green, rgb
    assert rgb[-1] == off
    assert {"said": "请排队"} in lines(outs["queue_alarm"])
    # click: the fan turns on; click again: off
    assert changes(outs["button_fan"], "fan") == [1.0, 0.0]
    # dry soil held for a second: the pump waters; wet again: it stops
    assert changes(outs["dry_soil"], "pump") == [1.0, 0.0]


def test_check_names_the_line_and_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    from click.testing import CliRunner

    from labkit.cli import main

    bad = tmp_path / "bad.yaml"
    text = (EXAMPLES / "button_fan.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("block: toggle", "block: toggel"), encoding="utf-8")
    line = next(i for i, s in enumerate(bad.read_text().splitlines(), 1) if "toggel" in s)
    monkeypatch.setenv("LABKIT_DATA", str(kit_data(tmp_path, "data")))
    monkeypatch.setenv("LABKIT_LANG", "en")
    result = CliRunner().invoke(main, ["pipeline", "check", str(bad)])
    assert result.exit_code == 2
    assert f"line {line}: switch: unknown block 'toggel'" in result.output
    assert "Traceback" not in result.output
    ok = CliRunner().invoke(main, ["pipeline", "check", str(EXAMPLES / "button_fan.yaml")])
    assert ok.exit_code == 0 and "button_fan is fine" in ok.output
    missing = CliRunner().invoke(main, ["pipeline", "check", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2 and "cannot read the pipeline" in missing.output


def test_enable_writes_the_unit_and_disable_removes_it(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from labkit.cli import main

    units = tmp_path / "systemd"
    data = kit_data(tmp_path, "kit")
    monkeypatch.setenv("LABKIT_SYSTEMD_DIR", str(units))
    monkeypatch.setenv("LABKIT_DATA", str(data))
    monkeypatch.setenv("LABKIT_LANG", "en")
    cli = CliRunner()
    result = cli.invoke(main, ["pipeline", "enable", str(EXAMPLES / "button_fan.yaml")])
    assert result.exit_code == 0, result.output
    template = (units / "labkit-pipeline@.service").read_text()
    link = units / "multi-user.target.wants" / "labkit-pipeline@button_fan.service"
    assert link.is_symlink() and link.resolve() == (units / "labkit-pipeline@.service")
    saved = data / "pipelines" / "boot" / "button_fan.yaml"
    assert f'pipeline run "{data / "pipelines" / "boot"}/%i.yaml"' in template
    assert f'Environment="LABKIT_DATA={data}"' in template
    if os.getuid() == 0:              # a root-owned data dir: the unit runs as root
        assert "User=" not in template
    else:                             # else as the data dir's owner, never as root
        assert f"User={pwd.getpwuid(os.getuid()).pw_name}" in template
    assert "PrivateNetwork=yes" in template and "WantedBy=multi-user.target" in template
    # beside a serving kit (which owns camera and pins) the unit skips itself: serve runs it
    assert "After=" in template and "labkit.service" in template.split("After=")[1].split("\n")[0]
    assert "ExecCondition=/bin/sh -c '! systemctl is-active --quiet labkit.service'" in template
    assert saved.read_text() == (EXAMPLES / "button_fan.yaml").read_text()
    if shutil.which("systemd-analyze"):      # systemd itself accepts the unit
        instance = tmp_path / "labkit-pipeline@button_fan.service"
        instance.write_text(template)
        verify = subprocess.run(["systemd-analyze", "verify", "--man=no", str(instance)],
                                capture_output=True, text=True, timeout=60)
        assert "labkit-pipeline" not in verify.stderr, verify.stderr
    listed = cli.invoke(main, ["pipeline", "list"])
    assert "button_fan\tenabled" in listed.output
    # a name that is not a pipeline's is refused before systemctl would see it
    odd = cli.invoke(main, ["pipeline", "disable", "--now"])
    assert odd.exit_code == 2
    gone = cli.invoke(main, ["pipeline", "disable", "button_fan"])
    assert gone.exit_code == 0, gone.output
    assert not link.exists() and not link.is_symlink() and not saved.exists()
    assert not (units / "labkit-pipeline@.service").exists()
    again = cli.invoke(main, ["pipeline", "disable", "button_fan"])
    assert again.exit_code == 2 and "no pipeline called button_fan" in again.output
    assert "no pipeline starts on boot" in cli.invoke(main, ["pipeline", "list"]).output


def _wait_for(path: Path, text: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in {path}: {path.read_text() if path.exists() else ''}")


ASK_FOR_THE_PINS = """
import sys
from labkit.drivers.outputlock import OutputLock
from labkit.drivers.pins import Holder, Pins, PinsBusy
try:
    Pins(guard=OutputLock(sys.argv[1])).acquire(Holder("pipeline:x", "pipeline", "x"))
    print("acquired")
except PinsBusy as exc:
    print(exc.message)
"""


def test_a_pipeline_process_and_the_kit_do_not_drive_the_pins_at_once(tmp_path: Path) -> None:
    from labkit.config import Settings
    from labkit.drivers.pins import Holder, PinsBusy
    from labkit.runtime import KitRuntime

    data = kit_data(tmp_path, "kit")
    out = tmp_path / "pipeline.out"
    with out.open("w") as sink:
        proc = subprocess.Popen(LABKIT + ["pipeline", "run", str(EXAMPLES / "button_fan.yaml")],
                                env=labkit_env(data), cwd=str(REPO), stdout=sink,
                                stderr=subprocess.STDOUT, text=True)
    runtime = None
    try:
        _wait_for(out, '"status": "running"')
        runtime = KitRuntime(Settings(data_dir=data, hardware="sim", camera="synthetic"),
                             start_camera=False)
        # the kit's own process: a lab cannot take the pins while the pipeline has them,
        # and the idle demo stays off
        with pytest.raises(PinsBusy) as info:
            runtime.pins.acquire(Holder("lab:1", "lab", "李明"))
        assert info.value.holder.kind == "pipeline"
        assert "button_fan's pipeline" in str(info.value)
        assert info.value.holder.id.startswith(f"process:{proc.pid}:")
        assert not runtime.idle_demo_running
        proc.terminate()
        assert proc.wait(timeout=20) == 0
        # once the pipeline has stopped, the kit has its pins back
        lab = runtime.pins.acquire(Holder("lab:1", "lab", "李明"))
        # and another process asking for them meanwhile is refused, naming the lab
        refused = subprocess.run(
            [sys.executable, "-c", ASK_FOR_THE_PINS, str(data)], env=labkit_env(data),
            cwd=str(REPO), capture_output=True, text=True, timeout=30)
        lab.release()
        assert refused.returncode == 0, refused.stderr
        # what holds them, never who: the lock file is in the clear and names no child
        assert refused.stdout.strip() == "the kit's outputs are in use (lab)"
        assert "李明" not in (data / "outputs.lock").read_text(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
        if runtime is not None:
            runtime.close()
    assert os.path.exists(data / "outputs.lock")


def test_a_serving_kit_runs_the_pipeline_kept_for_boot_itself(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """`labkit serve` owns the camera and pins, so it runs the enabled boot pipeline in its own
    process: another process asking for the outputs hears that the pipeline has them."""
    from click.testing import CliRunner

    from labkit.cli import main

    units, data = tmp_path / "systemd", kit_data(tmp_path, "kit")
    monkeypatch.setenv("LABKIT_SYSTEMD_DIR", str(units))
    monkeypatch.setenv("LABKIT_DATA", str(data))
    enabled = CliRunner().invoke(main, ["pipeline", "enable", "button_fan"])
    assert enabled.exit_code == 0, enabled.output
    server = start_server(data, LABKIT_SYSTEMD_DIR=str(units))
    try:
        _wait_for(server.log_path, "the boot pipeline button_fan is running")
        refused = subprocess.run(
            [sys.executable, "-c", ASK_FOR_THE_PINS, str(data)], env=labkit_env(data),
            cwd=str(REPO), capture_output=True, text=True, timeout=30)
        assert refused.returncode == 0, refused.stderr
        assert refused.stdout.strip().startswith("the kit's outputs are in use"), refused.stdout
        assert "pipeline" in refused.stdout
    finally:
        server.stop()
