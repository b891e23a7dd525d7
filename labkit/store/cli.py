"""`labkit teacher set-pin`: set or reset the teacher PIN from a shell on the kit.

The page lets a PIN be chosen only on first run and only from the kit itself; a forgotten PIN
is reset here, by whoever can log in to the kit (the IT teacher), never from a browser.
"""

from __future__ import annotations

import sys

import click

from labkit.config import Settings
from labkit.store import Store


@click.group()
def teacher() -> None:
    """Teacher account on this kit."""


@teacher.command("set-pin")
@click.option("--stdin", "from_stdin", is_flag=True,
              help="Read the PIN from standard input (for scripts such as the Ansible playbook).")
def set_pin(from_stdin: bool) -> None:
    """Set or reset the teacher PIN (6 to 12 digits); ends every teacher session."""
    if from_stdin:
        pin = sys.stdin.readline().strip()
        confirm = pin
    else:
        pin = click.prompt("New teacher PIN", hide_input=True)
        confirm = click.prompt("The same PIN again", hide_input=True)
    store = Store(Settings.from_env().ensure_data_dir())
    try:
        store.change_pin(pin, confirm)  # a Problem is a LabkitError: one line, exit 2
    finally:
        store.close()
    click.echo("teacher PIN set.")


@teacher.command("reset-pin")
def reset_pin() -> None:
    """Print a one-time recovery code: type it on the teacher page to choose a new PIN."""
    from labkit.store.pin import RESET_VALID_S

    store = Store(Settings.from_env().ensure_data_dir())
    try:
        code = store.pin_recovery.new_code()
    finally:
        store.close()
    click.echo(f"recovery code: {code}")
    click.echo(f"open the Teacher page, choose 'Forgot the PIN?', type this code and a new PIN "
               f"within {int(RESET_VALID_S // 60)} minutes; it works once.")


@teacher.command("next-class")
def next_class() -> None:
    """End the running lessons and sign every student out (portfolios and projects stay).

    The running kit's lab, programs and camera demos are stopped by the console's "Ready for
    the next class" button; this command reaches only the kit's records, so it also works
    while the kit is not serving."""
    from labkit.store.next_class import end_class

    store = Store(Settings.from_env().ensure_data_dir())
    try:
        done = end_class(store)
    finally:
        store.close()
    click.echo(f"lessons ended: {done.sessions_ended}; students signed out: "
               f"{done.students_signed_out}.")
