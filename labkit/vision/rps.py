"""Rock-paper-scissors against the kit, as a gpiozero-style device that follows a HandTracker.

A round starts when a hand comes into view. A *fair* kit picks its move at that moment, with
the operating system's random source (`random.SystemRandom`), before it has seen which shape
the hand will make; a *cheating* kit waits for the hand's shape and picks the move that beats
it — the same game, with a very different kind of fairness, for the class to discuss. The
round is decided once the same shape has been held for a few frames, and a new round needs
the hand to leave the view first.

`value` is the player's wins; sub-devices give `rounds`, `kit_wins`, `draws`, the kit's move,
and `won` / `lost` / `drew`, each true from the round's end until the hand leaves (so an
action can say the result once per round).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any, Callable

from gpiozero import InternalDevice

from labkit.drivers.signals import ensure_pin_factory

MOVES = ("rock", "paper", "scissors")
BEATS = {"rock": "scissors", "paper": "rock", "scissors": "paper"}   # key beats value
WINNING_MOVE = {loser: winner for winner, loser in BEATS.items()}    # what beats it


def outcome(player: str, kit: str) -> str:
    """'win', 'lose' or 'draw', from the player's side."""
    if player not in MOVES or kit not in MOVES:
        raise ValueError(f"moves are {MOVES}, got {player!r} and {kit!r}")
    if player == kit:
        return "draw"
    return "win" if BEATS[player] == kit else "lose"


class Referee:
    """Picks the kit's moves and keeps the score (no camera: the logic alone)."""

    def __init__(self, mode: str = "fair", *, rng: random.Random | None = None) -> None:
        if mode not in ("fair", "cheat"):
            raise ValueError("mode is 'fair' or 'cheat'")
        self.mode = mode
        self.rng = rng or random.SystemRandom()
        self.rounds = self.wins = self.kit_wins = self.draws = 0
        self.kit_move = ""
        self.last = ""

    def start_round(self) -> None:
        """A hand appeared: a fair kit commits to its move now, before seeing the shape."""
        self.kit_move = self.rng.choice(MOVES) if self.mode == "fair" else ""

    def finish_round(self, player: str) -> str:
        """The hand held `player`'s shape: decide the round and count it."""
        if self.mode == "cheat":
            self.kit_move = WINNING_MOVE[player]
        elif not self.kit_move:
            self.start_round()
        result = outcome(player, self.kit_move)
        self.rounds += 1
        if result == "win":
            self.wins += 1
        elif result == "lose":
            self.kit_wins += 1
        else:
            self.draws += 1
        self.last = result
        return result


@dataclass
class _Count:
    """A read-only number sub-device (`game.rounds`), readable by signals and bindings."""

    read: Callable[[], Any]

    @property
    def value(self) -> Any:
        return self.read()


class RpsGame(InternalDevice):
    """The game device: follows `tracker` (a HandTracker) and referees each round.

    mode        "fair" (default) or "cheat"
    min_frames  frames a shape (or an empty view) must hold before it counts
    """

    def __init__(self, tracker: Any = None, mode: str = "fair", *, min_frames: int = 3,
                 rng: random.Random | None = None, pin_factory: Any = None) -> None:
        ensure_pin_factory()
        self.referee = Referee(mode, rng=rng)
        self.min_frames = max(1, int(min_frames))
        self.phase = "waiting"         # waiting → in_round → decided → (hand leaves) waiting
        self._shape, self._shape_n, self._empty_n = "", 0, 0
        self._lock = threading.Lock()
        self.tracker = tracker
        super().__init__(pin_factory=pin_factory)
        if tracker is not None:
            self._sig = tracker.signal(f"rps-game:{id(self)}", self._follow)

    # -- feeding ------------------------------------------------------------------------
    def _follow(self, result: Any) -> float:
        best = getattr(result, "best", None) if result is not None else None
        self.see(best.rps if best is not None else None)
        return float(self.referee.wins)

    def see(self, shape: str | None) -> None:
        """One frame's view: None = no hand, '' = a hand making no game shape."""
        with self._lock:
            if shape is None:
                self._empty_n += 1
                self._shape, self._shape_n = "", 0
                if self._empty_n >= self.min_frames and self.phase != "waiting":
                    self.phase = "waiting"
                return
            self._empty_n = 0
            if self.phase == "waiting":
                self.referee.start_round()
                self.phase = "in_round"
            if self.phase != "in_round":
                return
            if shape and shape == self._shape:
                self._shape_n += 1
            else:
                self._shape, self._shape_n = shape, 1 if shape else 0
            if self._shape and self._shape_n >= self.min_frames:
                self.referee.finish_round(self._shape)
                self.phase = "decided"

    # -- reading ------------------------------------------------------------------------
    @property
    def value(self) -> float:
        return float(self.referee.wins)

    @property
    def is_active(self) -> bool:
        return self.phase == "decided" and self.referee.last == "win"

    @property
    def present(self) -> Any:
        """True while a hand is in view (the tracker's own signal)."""
        if self.tracker is not None:
            return self.tracker.present
        return _Count(lambda: self._empty_n == 0 and self.phase != "waiting")

    @property
    def rounds(self) -> _Count:
        return _Count(lambda: self.referee.rounds)

    @property
    def wins(self) -> _Count:
        return _Count(lambda: self.referee.wins)

    @property
    def kit_wins(self) -> _Count:
        return _Count(lambda: self.referee.kit_wins)

    @property
    def draws(self) -> _Count:
        return _Count(lambda: self.referee.draws)

    @property
    def kit_move(self) -> _Count:
        return _Count(lambda: self.referee.kit_move if self.phase == "decided" else "")

    def _result_is(self, which: str) -> _Count:
        return _Count(lambda: self.phase == "decided" and self.referee.last == which)

    @property
    def won(self) -> _Count:
        return self._result_is("win")

    @property
    def lost(self) -> _Count:
        return self._result_is("lose")

    @property
    def drew(self) -> _Count:
        return self._result_is("draw")
