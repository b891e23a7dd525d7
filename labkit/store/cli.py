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
    """Set or reset the teacher PIN (4 to 12 digits)."""
    if from_stdin:
        pin = sys.stdin.readline().strip()
        confirm = pin
    else:
        pin = click.prompt("New teacher PIN", hide_input=True)
        confirm = click.prompt("The same PIN again", hide_input=True)
    store = Store(Settings.from_env().ensure_data_dir())
    try:
        store.pin.replace(pin, confirm)  # a Problem is a LabkitError: one line, exit 2
    finally:
        store.close()
    click.echo("teacher PIN set.")
