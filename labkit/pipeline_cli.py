"""`labkit pipeline run|check|enable|disable|list`: a student's pipeline as a device.

    labkit pipeline check door.yaml        exit 0, or 2 with "line 7: …" on a bad file
    labkit pipeline run door.yaml          run headless until Ctrl-C / SIGTERM
    labkit pipeline run door.yaml --demo   in simulation: play the file's demo scenario
    labkit pipeline enable door.yaml       start it on boot (systemd)

`run` prints one JSON line per change of a kit output (`{"device": "rgb", "value": [1, 0,
0]}`), read from the virtual bench's pin states, and per sentence spoken (`{"said": "请排队"}`),
so a log or a test sees what the kit did.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path
from typing import Any

import click

log = logging.getLogger("labkit.pipeline")


@click.group("pipeline")
def pipeline() -> None:
    """Pipelines: camera → detector → rule → action, from a YAML file, without code."""


def _wiring(settings: Any) -> Any:
    from labkit.drivers.wiring import load_wiring

    return load_wiring(settings.wiring_file)


@pipeline.command("check")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def check(ctx: click.Context, file: Path) -> None:
    """Check a pipeline file; a mistake is shown with its line (exit 2)."""
    from labkit.pipeline.spec import load

    spec = load(file, wiring=_wiring(ctx.obj["settings"]))
    click.echo(f"{file}: pipeline {spec.name} is fine ({len(spec.blocks)} blocks)")


def _outputs(state: dict[str, Any]) -> dict[str, Any]:
    return {name: dev.get("value", dev.get("angle")) for name, dev in state.items()
            if dev.get("role") == "output"}


@pipeline.command("run")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seconds", type=float, default=0.0, show_default=True,
              help="Stop after this long (0 = until Ctrl-C or SIGTERM).")
@click.option("--demo", is_flag=True, help="Play the file's demo scenario (simulation only) "
              "and stop when it has played.")
@click.option("--camera", default=None, help="Camera source (auto, synthetic, index, file).")
@click.pass_context
def run(ctx: click.Context, file: Path, seconds: float, demo: bool, camera: str | None) -> None:
    """Run a pipeline headless until stopped, printing each output change as JSON."""
    from labkit.pipeline.runner import PipelineRunner, wait_until
    from labkit.pipeline.spec import load
    from labkit.runtime import KitRuntime

    settings = ctx.obj["settings"]
    if camera:
        settings = settings.with_(camera=camera)
    spec = load(file, wiring=_wiring(settings))
    runtime = KitRuntime(settings, start_camera=spec.uses_camera)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    sub = runtime.bus.subscribe("bench.state", "pipeline.action")
    last: dict[str, Any] = _outputs(runtime.bench.state())
    runner = PipelineRunner(runtime, spec)
    try:
        runner.start(demo=demo)
        click.echo(json.dumps({"pipeline": spec.name, "status": "running"}), nl=True)

        def show_changes() -> None:
            while not stop.is_set():
                event = sub.get(timeout=0.2)
                if event is None:
                    continue
                if event.topic == "pipeline.action":
                    said = {k: v for k, v in event.data.items() if k in ("said", "beep")}
                    click.echo(json.dumps(said, ensure_ascii=False))
                    continue
                for name, value in _outputs(event.data).items():
                    if last.get(name) != value:
                        last[name] = value
                        click.echo(json.dumps({"device": name, "value": value}))

        printer = threading.Thread(target=show_changes, daemon=True)
        printer.start()
        waits = [runner.stopped] + ([runner.demo_done] if demo and spec.demo else [])
        wait_until(stop, *waits, seconds=seconds)
        if runner.demo_done.is_set():
            stop.wait(0.3)        # the last changes reach the bench poll and this log
    finally:
        stop.set()
        runner.stop()
        runtime.bench.poll_once()
        for name, value in _outputs(runtime.bench.state()).items():
            if last.get(name) != value:
                click.echo(json.dumps({"device": name, "value": value}))
        sub.close()
        runtime.close()
    click.echo(json.dumps({"pipeline": spec.name, "status": "stopped"}))


@pipeline.command("enable")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def enable(ctx: click.Context, file: Path) -> None:
    """Start this pipeline on boot (and now), as systemd unit labkit-pipeline@NAME."""
    from labkit.pipeline import systemd
    from labkit.pipeline.spec import load

    settings = ctx.obj["settings"]
    spec = load(file, wiring=_wiring(settings))
    saved = systemd.enable(spec, settings.ensure_data_dir(), settings.hardware)
    click.echo(f"{spec.name}: starts on boot ({systemd.unit_name(spec.name)}, runs {saved})")


@pipeline.command("disable")
@click.argument("name")
@click.pass_context
def disable(ctx: click.Context, name: str) -> None:
    """Stop a pipeline started on boot and no longer start it."""
    from labkit.pipeline import systemd

    systemd.disable(name, ctx.obj["settings"].data_dir)
    click.echo(f"{name}: no longer starts on boot")


@pipeline.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """The pipelines that start on boot."""
    from labkit.pipeline import systemd

    rows = systemd.enabled(ctx.obj["settings"].data_dir)
    if not rows:
        click.echo("no pipeline starts on boot")
    for row in rows:
        state = "enabled" if row["enabled"] else "kept, unit not enabled"
        click.echo(f"{row['name']}\t{state}\t{row['file']}")
