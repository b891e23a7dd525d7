"""`labkit run PROJECT` (one lab, headless, with logs) and `labkit curriculum check`.

`labkit run face_led` starts the kit's runtime in this process, runs the lab exactly as the
page would (same runner, same checks) and logs every signal change and step as it happens.
`--demo` plays the lab's demo scenario instead of waiting for a class: in simulation on a
simulated clock (as fast as the detectors run), with `--realtime` at the speed of the page.
It exits 0 once every check has passed, 1 if `--seconds` ran out (or the demo ended) first,
2 on a user error.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from pathlib import Path
from typing import Any

import click

log = logging.getLogger("labkit.run")


@click.command("run")
@click.argument("project")
@click.option("--seconds", type=float, default=120.0, show_default=True,
              help="Give up after this long if not every check has passed (0 = no limit).")
@click.option("--keep-going", is_flag=True, help="Keep running after every check passed.")
@click.option("--camera", default=None, help="Camera source (auto, synthetic, index, file).")
@click.option("--demo", is_flag=True, help="Play the lab's demo scenario (simulation only).")
@click.option("--realtime", is_flag=True, help="With --demo: play it in real time, as the "
              "page's Demo button does (default: on a simulated clock, as fast as possible).")
@click.pass_context
def run(ctx: click.Context, project: str, seconds: float, keep_going: bool,
        camera: str | None, demo: bool, realtime: bool) -> None:
    """Run one lab headless from the terminal, logging what the kit observes."""
    from labkit.drivers.hardware import resolve_hardware
    from labkit.errors import LabkitError
    from labkit.projects.clock import RealClock, SimClock
    from labkit.projects.registry import registry
    from labkit.projects.runner import LabRunner
    from labkit.runtime import KitRuntime

    settings = ctx.obj["settings"]
    if camera:
        settings = settings.with_(camera=camera)
    labs = registry(settings.data_dir)
    cls = labs.get(project)  # unknown lab: one clear line, exit 2
    logging.getLogger("labkit.projects").setLevel(logging.INFO)
    if demo and (settings.hardware == "real" or resolve_hardware(settings.hardware) != "sim"):
        raise LabkitError("a demo plays simulated inputs, so it runs only in simulation",
                          code="real_hardware", fix="run it with LABKIT_HARDWARE=sim")
    runtime = KitRuntime(settings, start_camera=cls.uses_camera() and not (demo and
                                                                           not realtime))
    done = threading.Event()
    sub = runtime.bus.subscribe("lab")
    try:
        clock = SimClock(time.time()) if demo and not realtime else RealClock()
        runner = LabRunner(runtime, None, labs, clock=clock)
        for check_id, spec in cls.checks.items():
            log.info("check %s: %s", check_id, spec.description)
        runner.start(project, demo=demo)
        stop = threading.Event()
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
        deadline = time.monotonic() + seconds if seconds > 0 else None
        try:
            while not stop.is_set():
                event = sub.get(timeout=0.2)
                if event is not None:
                    _log_event(event.topic, event.data)
                    if event.topic == "lab.state" and event.data.get("status") == "complete":
                        done.set()
                        if not keep_going:
                            break
                    if event.topic == "lab.demo" and event.data.get("status") == "done":
                        break
                if deadline is not None and time.monotonic() > deadline:
                    break
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
        lab = runner.active
        summary = lab.snapshot() if lab is not None else None
        runner.stop("stopped")
    finally:
        sub.close()
        runtime.close()
    if summary is not None:
        passed = sum(1 for s in summary["steps"] if s["passed"])
        click.echo(f"{project}: {passed}/{len(summary['steps'])} check(s) passed")
    if not done.is_set():
        ctx.exit(1)


def _log_event(topic: str, data: dict[str, Any]) -> None:
    if topic == "lab.signal":
        log.info("signal %s = %s", data.get("name"), data.get("value"))
    elif topic == "lab.check":
        log.info("check %s: %s/%s%s", data.get("check"), data.get("count"), data.get("target"),
                 " passed" if data.get("passed") else "")
    elif topic == "lab.step":
        log.info("step %s passed", data.get("step"))
    elif topic == "lab.state":
        log.info("lab %s", data.get("status"))
    elif topic == "lab.error":
        log.warning("lab error: %s", data.get("message"))
    elif topic == "lab.demo":
        log.info("demo played: %s/%s step(s) passed", data.get("passed"), data.get("total"))


@click.group("curriculum")
def curriculum() -> None:
    """Lessons and semester plans."""


@curriculum.command("check")
@click.option("--dir", "root", type=click.Path(path_type=Path), default=None,
              help="Plans folder (default: LABKIT_CURRICULUM or the plans in the package).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--strict", is_flag=True, help="Also fail (exit 1) when a class-hour target is "
              "not met.")
@click.pass_context
def curriculum_check(ctx: click.Context, root: Path | None, as_json: bool, strict: bool) -> None:
    """Validate every lab and plan; report class hours per grade against the targets.

    Exit 0 when everything is valid (targets not met are reported as warnings), 1 when a
    lab or plan is invalid (or, with --strict, a target is not met).
    """
    from labkit import curriculum as cur_mod
    from labkit.projects.registry import registry

    labs = registry(ctx.obj["settings"].data_dir)
    cur = cur_mod.load(root, labs)
    rep = cur_mod.report(cur)
    rep["lab_problems"] = [p.as_dict() for p in labs.problems]
    if as_json:
        click.echo(json.dumps(rep, ensure_ascii=False, indent=2))
    else:
        click.echo(cur_mod.format_report(rep))
    if not rep["valid"] or (strict and rep["targets_met"] < rep["targets_total"]):
        ctx.exit(1)


def _register_doctor_check() -> None:
    from labkit.projects.health import register_doctor_check

    register_doctor_check()


_register_doctor_check()
