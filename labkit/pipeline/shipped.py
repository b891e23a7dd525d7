"""Pipelines that come with the kit: the examples and the ones lab folders carry.

A student in the kit's terminal types `labkit pipeline enable door_counter`; the file lives in
the installed package (`labkit/labs/creative/door_counter/door_counter.yaml`), where nobody
would find it. So a command's FILE that is not a file on disk is looked up here by name: the
examples in `labkit/pipeline/examples/`, then every `*.yaml` in a lab folder other than
`lab.yaml` (docs/pipeline.md).
"""

from __future__ import annotations

from pathlib import Path

from labkit.projects.discovery import LAB_FILE, PACKAGE_LABS

EXAMPLES = Path(__file__).resolve().parent / "examples"


def shipped() -> dict[str, Path]:
    """Every pipeline the kit ships, by name (the file name without `.yaml`)."""
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE_LABS.glob("*/*/*.yaml")):
        if path.name != LAB_FILE:
            found.setdefault(path.stem, path)
    for path in sorted(EXAMPLES.glob("*.yaml")):
        found[path.stem] = path          # an example's name wins over a lab's file
    return found


def resolve(given: str | Path) -> Path:
    """`given` itself when it is a file; else the shipped pipeline of that name (`door_counter`
    or `door_counter.yaml`); else `given` unchanged, so the loader reports it missing."""
    path = Path(given)
    if path.is_file():
        return path
    name = path.name[:-5] if path.name.endswith(".yaml") else path.name
    if path.parent == Path("."):
        return shipped().get(name, path)
    return path
