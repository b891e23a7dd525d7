"""`labkit pack ...`: build, verify, install, list, retire and roll back signed lab packs.

It lives with the lab framework (not in labkit.packs) because installing vets the models in a
pack with labkit.models.vetting, a layer above the pack reader.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import click

from labkit.config import Settings
from labkit.packs import labpack, signing

log = logging.getLogger(__name__)


def _settings(ctx: click.Context) -> Settings:
    obj = ctx.find_root().obj
    if isinstance(obj, dict) and isinstance(obj.get("settings"), Settings):
        return obj["settings"]
    return Settings.from_env()


def vet_pack_model(data: bytes, kind: str) -> None:
    """Every model file in a pack is vetted (static checks, then a load in a limited child)
    before a byte of the pack is written."""
    from labkit.models.vetting import PACK_LIMITS, ModelRefused, vet_model

    try:
        vet_model(data, kind, limits=PACK_LIMITS, must_run=False)
    except ModelRefused as exc:
        raise labpack.PackRefused(exc.message_text, code="bad_model") from None


def store_for(settings: Settings) -> labpack.PackStore:
    return labpack.PackStore(settings.data_dir)


# A release puts the publisher-signed `labkit pack build-builtin` output here; a development
# checkout has none, and the package's labs are installed as they are (install_from_package).
SHIPPED_BUILTIN = Path(labpack.__file__).resolve().parent / "builtin"


def ensure_builtin(settings: Settings, *, shipped: Path = SHIPPED_BUILTIN,
                   store: labpack.PackStore | None = None) -> str:
    """At a kit's start: make sure the built-in pack for this labkit is installed.

    The signed pack shipped with the package is installed through the ordinary verified path
    when there is one; otherwise the package's own labs are (see
    PackStore.install_from_package). Returns what was done: "signed", "package" or "" (it
    was there already)."""
    from labkit import __version__
    from labkit.projects.discovery import PACKAGE_LABS

    store = store or store_for(settings)
    current = store.state().get(labpack.BUILTIN_ID, {})
    signed_file = Path(shipped) / f"{labpack.BUILTIN_ID}-{__version__}{labpack.SUFFIX}"
    if signed_file.is_file() and not current.get("retired") and (
            current.get("current") != __version__ or current.get("origin") == "package"):
        try:
            store.install(signed_file, vet=vet_pack_model)
            return "signed"
        except labpack.PackRefused as exc:
            log.warning("the shipped built-in pack was refused (%s); installing the "
                        "package's labs instead", exc.one_line())
    return "package" if store.install_from_package(PACKAGE_LABS) is not None else ""


@click.group()
def pack() -> None:
    """Signed lab packs (.labpack): labs, models and media from a trusted publisher."""


@pack.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option("--key", "key", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The publisher's ed25519 private key (PEM).")
@click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
              show_default=True)
def build(folder: Path, key: Path, out: Path) -> None:
    """Sign FOLDER (labpack.source.json + labs/ models/ media/) into a .labpack."""
    path = labpack.build_pack(folder, key, out)
    click.echo(f"wrote {path}")


@pack.command("build-builtin")
@click.option("--key", "key", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The labkit publisher's ed25519 private key (PEM).")
@click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
              show_default=True)
def build_builtin(key: Path, out: Path) -> None:
    """Sign the kit's own labs into the built-in pack (labkit-builtin-VERSION.labpack)."""
    from labkit.projects.discovery import PACKAGE_LABS

    path = labpack.build_builtin(PACKAGE_LABS, key, out)
    click.echo(f"wrote {path}")


@pack.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def verify(ctx: click.Context, file: Path) -> None:
    """Check a pack's signature, hashes and models without installing it."""
    store = store_for(_settings(ctx))
    info = labpack.verify_pack(file, store.keys(), vet=vet_pack_model)
    click.echo(json.dumps({"ok": True, **info.as_dict()}, ensure_ascii=False))


@pack.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def install(ctx: click.Context, file: Path) -> None:
    """Install (or upgrade to) a trusted pack: all of it or nothing."""
    settings = _settings(ctx)
    settings.ensure_data_dir()
    info = store_for(settings).install(file, vet=vet_pack_model)
    click.echo(f"installed {info.id} {info.version}")


@pack.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_(ctx: click.Context, as_json: bool) -> None:
    """The installed packs, their current version and whether they are retired."""
    rows: list[dict[str, Any]] = store_for(_settings(ctx)).list()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        flag = " (retired)" if row.get("retired") else ""
        click.echo(f"{row['id']} {row['current']}{flag}  {row.get('title', '')}")


@pack.command()
@click.argument("pack_id")
@click.option("--undo", is_flag=True, help="Show the pack to students again.")
@click.pass_context
def retire(ctx: click.Context, pack_id: str, undo: bool) -> None:
    """Hide a pack's labs from students; its files stay for the portfolios that use them."""
    store_for(_settings(ctx)).retire(pack_id, retired=not undo)
    click.echo(f"{pack_id} {'is back' if undo else 'retired'}")


@pack.command()
@click.argument("pack_id")
@click.pass_context
def rollback(ctx: click.Context, pack_id: str) -> None:
    """Go back to the version installed before the current one."""
    version = store_for(_settings(ctx)).rollback(pack_id)
    click.echo(f"{pack_id} is back at {version}")


@pack.command()
@click.argument("public_key_file", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_context
def trust(ctx: click.Context, public_key_file: Path) -> None:
    """Trust another publisher: the one-line ed25519 public key file they gave you."""
    settings = _settings(ctx)
    settings.ensure_data_dir()
    try:
        text = public_key_file.read_text("ascii")
    except (OSError, UnicodeDecodeError):
        text = ""
    kid = labpack.add_trusted_key(settings.data_dir, text)
    click.echo(f"trusted key {kid}")


@pack.command()
@click.argument("private_key", type=click.Path(path_type=Path, dir_okay=False))
def keygen(private_key: Path) -> None:
    """Make a publisher key pair: PRIVATE_KEY (0600, keep it off the kit) and PRIVATE_KEY.pub."""
    if private_key.exists():
        raise click.UsageError(f"{private_key} exists; choose a new file")
    public = signing.generate(private_key)
    pub_path = private_key.with_name(private_key.name + ".pub")
    pub_path.write_text(signing.public_text(public) + "\n")
    click.echo(f"wrote {private_key} and {pub_path} (key {signing.key_id(public)})")
