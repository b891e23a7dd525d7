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

from typing import Any, Iterable, Sequence

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


def figures(entries: Iterable[Any]) -> dict[str, Any]:
    """Per kind: trials, how many fired, and the share (None below MIN_TRIALS)."""
    out: dict[str, Any] = {}
    values = [getattr(e, "value", e) for e in entries]
    for kind in KINDS:
        mine = [v for v in values if isinstance(v, dict) and v.get("kind") == kind]
        fired = sum(1 for v in mine if v.get("fired"))
        out[kind] = {"trials": len(mine), "fired": fired,
                     "rate": round(fired / len(mine), 3) if len(mine) >= MIN_TRIALS else None}
    out["min"] = MIN_TRIALS
    out["enough"] = all(out[k]["trials"] >= MIN_TRIALS for k in KINDS)
    return out


class Trials:
    """The open trial of one run, over the lab's utterance detectors."""

    def __init__(self, detectors: Sequence[Any], window: float = WINDOW_S) -> None:
        self.detectors = list(detectors)
        self.window = float(window)
        self.open: dict[str, Any] | None = None

    def _counts(self) -> tuple[int, int]:
        return (sum(getattr(d, "utterances", 0) for d in self.detectors),
                sum(getattr(d, "heard_count", 0) for d in self.detectors))

    def start(self, kind: Any, now: float) -> dict[str, Any]:
        """Open a trial of `kind` (a trial still open is closed first, as not fired)."""
        kind = check_kind(kind)
        closed = self.close(now) if self.open is not None else None
        utterances, heard = self._counts()
        self.open = {"kind": kind, "at": now, "utterances": utterances, "heard": heard}
        return {"started": kind, "closed": closed}

    def poll(self, now: float) -> dict[str, Any] | None:
        """The trial's result once the recogniser decided an utterance or time ran out."""
        if self.open is None:
            return None
        utterances, _heard = self._counts()
        if utterances > self.open["utterances"] or now - self.open["at"] >= self.window:
            return self.close(now)
        return None

    def close(self, now: float) -> dict[str, Any]:
        trial, self.open = self.open, None
        assert trial is not None
        utterances, heard = self._counts()
        word = next((d.heard for d in self.detectors if getattr(d, "heard", None)), None)
        fired = heard > trial["heard"]
        return {"kind": trial["kind"], "fired": fired, "heard": word if fired else None,
                "spoke": utterances > trial["utterances"],
                "seconds": round(now - trial["at"], 2)}
