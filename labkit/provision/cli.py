"""`labkit firstboot` (run by labkit-firstboot.service) and `labkit update FILE`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from labkit.config import Settings


def _settings(ctx: click.Context) -> Settings:
    obj = ctx.find_root().obj
    if isinstance(obj, dict) and isinstance(obj.get("settings"), Settings):
        return obj["settings"]
    return Settings.from_env()


@click.command()
@click.option("--config", "config_path", type=click.Path(path_type=Path),
              default="/boot/firmware/labkit.toml", show_default=True,
              help="The first-boot settings file.")
@click.option("--keep", is_flag=True, help="Do not delete the file afterwards (testing).")
@click.option("--owner", default="labkit", show_default=True,
              help="User that must own the data dir afterwards (when run as root).")
@click.option("--scrub-cloud-init", is_flag=True,
              help="Replace cloud-init's user-data/network-config beside it by stubs once "
                   "cloud-init has applied them.")
@click.pass_context
def firstboot(ctx: click.Context, config_path: Path, keep: bool, owner: str,
              scrub_cloud_init: bool) -> None:
    """Apply labkit.toml once (name, PIN, room, Wi-Fi/hotspot, kiosk), then remove it."""
    from labkit.provision.firstboot import System, run_firstboot, scrub_cloud_init as scrub

    settings = _settings(ctx)
    if scrub_cloud_init:
        for name in scrub(config_path.parent):
            click.echo(f"replaced {config_path.parent / name} by a stub (cloud-init used it)")
    if not config_path.exists():
        return
    report = run_firstboot(config_path, settings.data_dir, System(owner=owner or None),
                           remove=not keep)
    click.echo("applied: " + (", ".join(report.applied) or "nothing"))
    for note in report.problems:
        click.echo(f"problem: {note.text}", err=True)
    if report.problems:
        click.echo("the kit starts with defaults for these; `labkit doctor` lists them again",
                   err=True)


@click.command()
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--prefix", type=click.Path(path_type=Path), default=None,
              help="Where the versions live (LABKIT_PREFIX, default /opt/labkit).")
@click.option("--service", default="auto", show_default=True,
              help="systemd unit to restart and check after the switch; 'none' to skip.")
@click.option("--force", is_flag=True, help="Reinstall even if the version is the same.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.pass_context
def update(ctx: click.Context, bundle: Path, prefix: Path | None, service: str, force: bool,
           as_json: bool) -> None:
    """Upgrade this kit offline from a wheelhouse (folder or .tar) on a USB stick.

    The new version is installed beside the running one and checked first; the kit switches
    only if it is healthy, and switches back if it fails after the restart. Data is kept.
    """
    import shutil

    from labkit.provision import update as up

    settings = _settings(ctx)
    layout = up.Layout(prefix or Path(os.environ.get("LABKIT_PREFIX", up.DEFAULT_PREFIX)))
    restart = live = None
    if service == "auto":
        service = "labkit.service" if shutil.which("systemctl") and \
            Path("/etc/systemd/system/labkit.service").exists() else "none"
    if service != "none":
        restart = up.systemd_restart(service)
        live = up.live_probe(settings.port)
    result = up.update(bundle, layout=layout, data_dir=settings.data_dir, force=force,
                       restart=restart, live_check=live)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
    elif result.status == "unchanged":
        click.echo(f"labkit {result.new_version} is already installed; nothing to do")
    elif result.status == "updated":
        click.echo(f"updated labkit {result.old_version or '(none)'} → {result.new_version}; "
                   f"data kept" + (f" (database backup: {result.backup})" if result.backup
                                   else ""))
    else:
        click.echo(f"labkit {result.new_version} failed its health check: "
                   + "; ".join(result.problems), err=True)
        click.echo(f"the kit stays on labkit {result.old_version or '(none)'}"
                   if result.status != "unhealthy" else
                   "there is no previous version to go back to", err=True)
    if result.status in ("rejected", "rolled_back", "unhealthy"):
        ctx.exit(1)


def _register_doctor_checks() -> None:
    """`labkit doctor` reports first boot, the last update and the clock too."""
    from labkit.provision.checks import register

    register()


_register_doctor_checks()
