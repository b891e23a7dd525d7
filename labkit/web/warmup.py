"""What the first page needs, prepared in the background once the kit listens.

`labkit serve` answers `/healthz` as soon as the app is built, but the home page and every lab
page read the curriculum: every lab folder discovered and checked (lab.yaml parsed and
validated, checks.py compiled) and, for grades 1–2, pypinyin's dictionary. Done on the first
page, that is most of a second a child waits for; done before the server listens, the kit
answers nothing for that long. `warm_first_pages` runs it in a thread after the server
listens, so a page opened a moment after start finds it ready.

A page never sees a half-made kit: what is warmed here is the same on-demand cache the pages
use (`labkit.curriculum.cached`, `labkit.projects.registry.registry`, both behind their own
locks), so a request that arrives while the warm-up runs waits for the discovery in progress
or does it itself, and gets the same answer either way. A lab that fails to load is logged by
the discovery as on a page; nothing here can stop the kit from serving.
"""

from __future__ import annotations

import logging
import time
from typing import Callable

from flask import Flask

log = logging.getLogger(__name__)

# each step is a name and what it does inside an app context; recorded by the tests
STEPS: tuple[str, ...] = ("curriculum", "pinyin", "templates")
FIRST_PAGE_TEMPLATES = ("home.html", "labs/lab.html")


def _curriculum() -> None:
    from labkit.web.labs import curriculum

    curriculum()


def _pinyin() -> None:
    from labkit.web.pinyin import ruby

    ruby("热身")      # imports pypinyin and loads its dictionary


def _templates(app: Flask) -> None:
    for name in FIRST_PAGE_TEMPLATES:
        app.jinja_env.get_template(name)   # compiled once, kept in Jinja's cache


def warm_first_pages(app: Flask) -> list[str]:
    """Prepare what the first page reads; returns the steps done (a failed one is logged)."""
    work: dict[str, Callable[[], None]] = {
        "curriculum": _curriculum, "pinyin": _pinyin, "templates": lambda: _templates(app)}
    done: list[str] = []
    t0 = time.perf_counter()
    with app.app_context():
        for name in STEPS:
            try:
                work[name]()
            except Exception:  # a broken lab or template shows on its page, not here
                log.warning("warm-up step %s failed", name, exc_info=True)
                continue
            done.append(name)
    log.info("first pages ready in %.2f s (%s)", time.perf_counter() - t0, ", ".join(done))
    return done

