"""URL rules whose URL builders are compiled on first `url_for`, not when the route is added.

Werkzeug compiles two Python functions per rule (through `ast` and `compile`) as soon as a
rule is bound to the map; with ~170 routes that is a large share of `create_app`, paid on every
start even though most rules are never built into a URL. Matching is untouched: only the
builders wait until a URL for that rule is first built.
"""

from __future__ import annotations

from typing import Any, Callable

from werkzeug.routing import Rule


class LazyBuildRule(Rule):
    """A `Rule` that defers compiling its URL builders to their first use."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compiled: list[Callable[..., tuple[str, str]]] = []

        def build(rule: Rule, **values: Any) -> tuple[str, str]:
            # Two threads may both compile on a first race: the results are identical.
            if not compiled:
                compiled.append(Rule._compile_builder(rule, append_unknown))
            return compiled[0](rule, **values)

        return build
