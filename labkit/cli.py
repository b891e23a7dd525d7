"""The `labkit` command: serve, doctor, version (and the groups other parts add).

User mistakes (`LabkitError`) print one line with the fix and exit 2 — never a traceback.
"""

from __future__ import annotations

import importlib
import json
import logging
import socket
import sys
from typing import Any

import click

from labkit import __version__
from labkit.config import Settings
from labkit.errors import LabkitError, use_translator
from labkit.i18n import translations


# The command groups other parts add, imported when one of them is run or listed: `labkit
# serve` must not pay for the models, provisioning and pack tooling on every start.
LAZY_COMMANDS = {
    "models": "labkit.models.cli:models",
    "run": "labkit.projects.cli:run",
    "curriculum": "labkit.projects.cli:curriculum",
    "teacher": "labkit.store.cli:teacher",
    "privacy": "labkit.privacy_cli:privacy",
    "firstboot": "labkit.provision.cli:firstboot",
    "update": "labkit.provision.cli:update",
    "pack": "labkit.projects.packcli:pack",
    "pipeline": "labkit.pipeline_cli:pipeline",
}


class LabkitGroup(click.Group):
    """A click group that turns LabkitError into one clear line and exit code 2, and loads
    the commands in `LAZY_COMMANDS` on first use (click's lazily loaded subcommands)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            self.add_command(_load_command(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LabkitError as exc:
            click.echo(f"labkit: error: {exc.one_line()}", err=True)
            ctx.exit(exc.exit_code)


def _load_command(name: str) -> click.Command:
    module_name, attribute = LAZY_COMMANDS[name].split(":")
    return getattr(importlib.import_module(module_name), attribute)


def load_all_commands(group: click.Group) -> None:
    """Import every lazily loaded command: their modules also register doctor checks."""
    for name in LAZY_COMMANDS:
        group.get_command(click.Context(group), name)


def settings_from(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


@click.group(cls=LabkitGroup)
@click.version_option(__version__, prog_name="labkit")
@click.option("-v", "--verbose", is_flag=True, help="Log more detail.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """labkit — the offline AI lab kit."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except LabkitError as exc:
        click.echo(f"labkit: error: {exc.one_line()}", err=True)
        ctx.exit(exc.exit_code)
    ctx.obj = {"settings": settings}
    # Messages from every layer (labkit.errors.Message) are shown in LABKIT_LANG.
    use_translator(translations(settings.lang).gettext)


@main.command()
def version() -> None:
    """Print the labkit version."""
    click.echo(__version__)


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            raise LabkitError(f"port {port} is already in use", code="port_in_use",
                              fix=f"stop the other program on port {port}, or set LABKIT_PORT "
                                  "to another number") from None


def _local_ips() -> list[str]:
    """This machine's IPv4 addresses as the OS reports them (no traffic is sent)."""
    import subprocess

    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=3).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [ip for ip in out.split() if "." in ip and not ip.startswith("127.")]


def _addresses(port: int) -> list[str]:
    urls = [f"http://localhost:{port}/"]
    hostname = socket.gethostname()
    urls.append(f"http://{hostname}.local:{port}/")
    for ip in _local_ips():
        urls.append(f"http://{ip}:{port}/")
    return urls


def _leave_start_dir(settings: Settings) -> Settings:
    """Pin every path in `settings` down, then work from `<data dir>/run`.

    Relative paths inside libraries (a model's external data, lgpio's notify files) would
    otherwise resolve against wherever the service was started — often `$HOME`, the data
    dir's parent.
    """
    import os

    from labkit.fsutil import neutral_workdir

    settings = settings.with_(data_dir=settings.data_dir.absolute(),
                              model_cache=settings.model_cache.absolute())
    settings.ensure_data_dir()
    run = neutral_workdir(settings.data_dir)
    os.environ.setdefault("LG_WD", str(run))
    return settings


@main.command()
@click.option("--host", default=None, help="Address to listen on (LABKIT_HOST).")
@click.option("--port", type=int, default=None, help="Port (LABKIT_PORT, default 8080).")
@click.option("--hardware", type=click.Choice(["auto", "sim", "real"]), default=None,
              help="Hardware mode (LABKIT_HARDWARE).")
@click.option("--camera", default=None, help="auto, synthetic, an index or a file.")
@click.option("--threads", type=int, default=32, show_default=True,
              help="Worker threads for pages and the JSON API (live views hold none).")
@click.option("--server", "server_kind", type=click.Choice(["uvicorn", "hypercorn", "waitress"]),
              default="uvicorn", show_default=True,
              help="HTTP server (waitress holds one thread per live view: for comparison).")
@click.option("--zeroconf/--no-zeroconf", "zeroconf", default=True, envvar="LABKIT_ZEROCONF",
              show_default=True,
              help="Announce the kit to the room and list the kits heard (mDNS; only on "
                   "127.0.0.1 when the kit serves only there).")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, hardware: str | None,
          camera: str | None, threads: int, server_kind: str, zeroconf: bool) -> None:
    """Start the kit: hardware, live view and the classroom page."""
    from labkit.web import create_app
    from labkit.web.asgi import run_server
    from labkit.web.warmup import warm_first_pages

    settings = settings_from(ctx).with_(**{k: v for k, v in {
        "host": host, "port": port, "hardware": hardware, "camera": camera}.items()
        if v is not None})
    _check_port_free(settings.host, settings.port)
    settings = _leave_start_dir(settings)
    _install_builtin_pack(settings)
    app = create_app(settings)
    runtime = app.extensions["labkit"]
    _listen_for_programs(runtime)
    from labkit.web.pipeline import start_boot_pipeline

    start_boot_pipeline(app)
    room: list[Any] = []
    if zeroconf:
        from labkit.web.fleet import start_discovery

        room = start_discovery(app, host=settings.host, port=settings.port)

    def announce() -> None:
        click.echo(f"labkit {__version__} is running ({runtime.hardware} hardware, camera "
                   f"{runtime.camera.name}). Open:")
        for url in _addresses(settings.port):
            click.echo(f"  {url}")
        sys.stdout.flush()

    def listening() -> None:
        """Once the port accepts connections: say so, then prepare the first pages."""
        announce()
        warm_first_pages(app)

    try:
        run_server(app, host=settings.host, port=settings.port, threads=threads,
                   server=server_kind, listening=listening)
    except KeyboardInterrupt:
        pass
    finally:
        for part in room:
            part.close()
        runtime.close()


def _listen_for_programs(runtime: Any) -> None:
    """Let `python my_program.py` in a terminal on the kit drive its pins (docs/code-lab.md)."""
    from labkit.sandbox.kitpins import SOCKET_NAME

    path = runtime.settings.data_dir / SOCKET_NAME
    if len(str(path)) > 100:      # AF_UNIX paths are limited to 108 bytes
        logging.getLogger(__name__).warning("data dir path too long for the programs' socket: %s", path)
        return
    try:
        runtime.kit_link.listen(path)
    except OSError as exc:
        logging.getLogger(__name__).warning("programs cannot connect from a terminal: %s", exc)
def _install_builtin_pack(settings: Settings) -> None:
    """The kit's own labs go through the pack install path at every start (docs/lab-packs.md);
    a refusal is logged and the kit runs the package's labs directly."""
    from labkit.errors import LabkitError
    from labkit.projects.packcli import ensure_builtin

    try:
        settings.ensure_data_dir()
        done = ensure_builtin(settings)
    except (LabkitError, OSError) as exc:
        logging.getLogger(__name__).warning("built-in lab pack not installed: %s", exc)
        return
    if done:
        logging.getLogger(__name__).info("built-in lab pack installed (%s)", done)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Tell what hardware and software this kit has and what to fix."""
    from labkit.doctor import format_text, report, run_checks
    from labkit.sandbox.health import register_doctor_check

    load_all_commands(main)
    register_doctor_check()
    findings = run_checks(settings_from(ctx))
    if as_json:
        click.echo(json.dumps(report(findings), ensure_ascii=False, indent=2))
    else:
        click.echo(format_text(findings))
    if not report(findings)["ok"]:
        ctx.exit(1)


if __name__ == "__main__":
    main()
