"""YAML read through libyaml when PyYAML was built with it.

Every lab folder, plan and wiring file is YAML, and the kit reads all of them at start and
again whenever a lab pack changes: the pure-Python parser made that about ten times slower
(1.5 s of a kit's cold start on a laptop). The C loaders accept the same safe subset and
keep line marks, so error messages still name the line.
"""

from __future__ import annotations

from typing import Any

import yaml

SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """`yaml.safe_load`, with libyaml when available."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader


def compose(text: str) -> yaml.Node | None:
    """The node tree of `text` (keys and values with their line marks)."""
    return yaml.compose(text, Loader=SafeLoader)
