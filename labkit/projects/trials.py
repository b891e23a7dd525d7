"""Trials a class runs on a sound recogniser: say a real command, or something that is not
one, and count whether the kit fired.

A lab asks for the page part (`parts: [trials]`); its recogniser is the lab's `commands` or
`command_words` detector. A trial opens when a student presses "command" or "not a command"
and closes with the next utterance the recogniser decides (or after `WINDOW_S` seconds of
silence); it is logged as a `trial` entry `{kind, fired, heard}`. The figures the page shows —
the hit rate on commands and the false-trigger rate on other speech, with the number of
trials — are computed from those entries only (`figures`), so a check and the page agree:
below `MIN_TRIALS` of a kind the page says "too few trials" instead of a rate.
"""

from __future__ import annotations

from typing import Any, Iterable

from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _

KINDS = ("command", "other")
MIN_TRIALS = 5
WINDOW_S = 5.0


def check_kind(kind: Any) -> str:
    if kind not in KINDS:
        raise LabkitError(_("A trial is a command or other speech, not %(kind)s.",
                            kind=str(kind)[:20]),
                          code="bad_input", fix=_("Press one of the two trial buttons."))
    return str(kind)


def _counted(trials: list[dict[str, Any]], fired: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in KINDS:
        mine = [t for t in trials if t.get("kind") == kind]
        n = sum(1 for t in mine if fired(t))
        out[kind] = {"trials": len(mine), "fired": n,
                     "rate": round(n / len(mine), 3) if len(mine) >= MIN_TRIALS else None}
    return out


def figures(entries: Iterable[Any]) -> dict[str, Any]:
    """Per kind: trials, how many fired, and the share (None below MIN_TRIALS); `by`: the
    same per recogniser, over the trials it listened in."""
    values = [getattr(e, "value", e) for e in entries]
    trials = [v for v in values if isinstance(v, dict)]
    out = _counted(trials, lambda t: t.get("fired"))
    names = sorted({n for t in trials for n in (t.get("by") or {})})
    out["by"] = {n: _counted([t for t in trials if n in (t.get("by") or {})],
                             lambda t, n=n: t["by"][n]) for n in names}
    out["min"] = MIN_TRIALS
    out["enough"] = all(out[k]["trials"] >= MIN_TRIALS for k in KINDS)
    return out


class Trials:
    """The open trial of one run, over the lab's utterance detectors (name → detector); a
    detector that is not `ready` (a sound project not picked yet) takes no part."""

    def __init__(self, detectors: dict[str, Any], window: float = WINDOW_S) -> None:
        self.detectors = dict(detectors)
        self.window = float(window)
        self.open: dict[str, Any] | None = None

    def _listening(self) -> dict[str, Any]:
        return {n: d for n, d in self.detectors.items() if getattr(d, "ready", 1)}

    def start(self, kind: Any, now: float) -> dict[str, Any]:
        """Open a trial of `kind` (a trial still open is closed first, as not fired)."""
        kind = check_kind(kind)
        closed = self.close(now) if self.open is not None else None
        self.open = {"kind": kind, "at": now,
                     "each": {n: (getattr(d, "utterances", 0), getattr(d, "heard_count", 0))
                              for n, d in self._listening().items()}}
        return {"started": kind, "closed": closed}

    def _decided(self, trial: dict[str, Any]) -> dict[str, bool]:
        """Per listening recogniser: has it decided an utterance since the trial opened?"""
        return {n: getattr(self.detectors[n], "utterances", 0) > before[0]
                for n, before in trial["each"].items()}

    def poll(self, now: float) -> dict[str, Any] | None:
        """The trial's result once every recogniser decided an utterance or time ran out."""
        if self.open is None:
            return None
        decided = self._decided(self.open)
        if (decided and all(decided.values())) or now - self.open["at"] >= self.window:
            return self.close(now)
        return None

    def close(self, now: float) -> dict[str, Any]:
        trial, self.open = self.open, None
        assert trial is not None
        by = {n: getattr(self.detectors[n], "heard_count", 0) > before[1]
              for n, before in trial["each"].items()}
        word = next((self.detectors[n].heard for n, fired in by.items() if fired), None)
        return {"kind": trial["kind"], "fired": any(by.values()), "by": by,
                "heard": word, "spoke": any(self._decided(trial).values()),
                "seconds": round(now - trial["at"], 2)}
