"""`labkit privacy purge --student X` and `labkit privacy expire-samples DATE` on the kit."""

from __future__ import annotations

import click

from labkit.config import Settings


def _open() -> tuple[object, object]:
    from labkit.learn.dataset import ProjectStore
    from labkit.store import Store

    data_dir = Settings.from_env().ensure_data_dir()
    return Store(data_dir), ProjectStore(data_dir)


@click.group()
def privacy() -> None:
    """Erase children's data from this kit."""


@privacy.command()
@click.option("--student", "who", required=True,
              help="The student's number or exact roster name.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def purge(who: str, yes: bool) -> None:
    """Erase every run, kept file, sample and trained model of one student."""
    from labkit.privacy import find_student, purge_student

    store, projects = _open()
    try:
        student = find_student(store, who)  # a Problem is a LabkitError: one line, exit 2
        if not yes:
            click.confirm(f"Erase all data of {student.name} (number {student.id})?", abort=True)
        from labkit.fleet.state import RoomState

        done = purge_student(store, projects, student.id,
                             collected=RoomState(store.data_dir))  # type: ignore[attr-defined]
    finally:
        store.close()   # type: ignore[attr-defined]
    click.echo(f"erased {student.name}: {done.runs} runs, {done.files} kept files, "
               f"{done.projects} /learn projects.")


@privacy.command("expire-samples")
@click.argument("day", required=False, default="")
def expire_samples_command(day: str) -> None:
    """Samples saved before DAY (2027-01-20) are erased from that day on; no DAY: keep them."""
    from labkit.privacy import expire_samples, set_samples_expiry

    store, projects = _open()
    try:
        when = set_samples_expiry(store, day)
        removed = expire_samples(store, projects)
    finally:
        store.close()   # type: ignore[attr-defined]
    click.echo(f"samples expire on {when.isoformat()}; {removed} erased now." if when
               else "samples are kept until a teacher removes them.")
