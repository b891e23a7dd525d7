"""Who may call a route: every view declares its roles in one place, with `@allow(...)`.

    @bp.post("/api/learn/projects/<int:pid>/train")
    @allow(STUDENT, TEACHER)
    def train(pid): ...

The declaration sits on the view itself, so reading a route tells who may reach it, and a test
walks `app.url_map` and fails on any view without one (docs/architecture.md § Roles).
A before-request hook enforces the declaration before the view runs: a request whose caller
holds none of the allowed roles gets a clear 4xx (JSON for API calls, a redirect to the right
sign-in page for a browser GET).

Roles:
- anonymous: any browser on the classroom network (public pages, picking a name)
- student: a roster session (or a teacher, who may do whatever a student may)
- teacher: a PIN session
- kit-local: a request from the kit itself (its own browser / shell): first PIN setup, recovery
- paired-kit: a signed request from a kit of the same room (fleet)
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any, Callable, Iterable, TypeVar

from flask import Flask, request

log = logging.getLogger(__name__)

ANONYMOUS = "anonymous"
STUDENT = "student"
TEACHER = "teacher"
KIT_LOCAL = "kit-local"
PAIRED_KIT = "paired-kit"
ROLES = (ANONYMOUS, STUDENT, TEACHER, KIT_LOCAL, PAIRED_KIT)

F = TypeVar("F", bound=Callable[..., Any])

# How each role is recognised for the current request. The web blueprints that own sessions
# (student picker, teacher PIN, fleet pairing) register their predicate here at import time,
# so this module needs no knowledge of how a session is kept.
_role_checks: dict[str, Callable[[], bool]] = {}


def allow(*roles: str) -> Callable[[F], F]:
    """Declare which roles may call this view (at least one)."""
    unknown = [r for r in roles if r not in ROLES]
    if not roles or unknown:
        raise ValueError(f"allow() needs roles from {ROLES}, got {roles}")

    def mark(view: F) -> F:
        view.labkit_roles = frozenset(roles)  # type: ignore[attr-defined]
        return view
    return mark


def declared_roles(view: Callable[..., Any]) -> frozenset[str] | None:
    """The roles a view declared, or None if it declared nothing."""
    return getattr(view, "labkit_roles", None)


def register_role_check(role: str, predicate: Callable[[], bool]) -> None:
    """Tell the access check how to recognise `role` in the current request."""
    if role not in ROLES:
        raise ValueError(role)
    _role_checks[role] = predicate


def is_kit_local() -> bool:
    """True for a request from the kit itself (loopback address)."""
    addr = request.remote_addr or ""
    try:
        return bool(addr) and ipaddress.ip_address(addr).is_loopback
    except ValueError:
        return False


register_role_check(ANONYMOUS, lambda: True)
register_role_check(KIT_LOCAL, is_kit_local)


def caller_has_any(roles: Iterable[str]) -> bool:
    """Does the current caller hold one of these roles? (a teacher counts as a student)"""
    wanted = set(roles)
    if STUDENT in wanted:
        wanted.add(TEACHER)
    for role in wanted:
        check = _role_checks.get(role)
        if check is not None and check():
            return True
    return False


def install_access_control(app: Flask, on_denied: Callable[[frozenset[str]], Any],
                           *, strict: bool = False) -> None:
    """Enforce every view's declaration before it runs.

    `on_denied(roles)` builds the refusal (raise or return a response). With `strict`, a view
    that declared nothing is refused too; without it, it is logged once and let through.
    """
    warned: set[str] = set()

    @app.before_request
    def _check_access() -> Any:
        endpoint = request.endpoint
        if endpoint is None:
            return None  # 404/405: let Flask answer
        if endpoint == "static":
            return None
        view = app.view_functions.get(endpoint)
        roles = declared_roles(view) if view is not None else None
        if roles is None:
            if strict:
                return on_denied(frozenset())
            if endpoint not in warned:
                warned.add(endpoint)
                log.warning("route %s declares no roles", endpoint)
            return None
        if caller_has_any(roles):
            return None
        return on_denied(roles)
