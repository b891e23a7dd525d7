"""Rock-paper-scissors against the kit: the rules, a fair kit's moves, a cheating kit, rounds."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from labkit.vision.rps import MOVES, Referee, RpsGame, outcome


def test_rules_from_the_players_side() -> None:
    assert outcome("rock", "scissors") == "win"
    assert outcome("scissors", "paper") == "win"
    assert outcome("paper", "rock") == "win"
    assert outcome("rock", "paper") == "lose"
    assert all(outcome(m, m) == "draw" for m in MOVES)
    with pytest.raises(ValueError):
        outcome("lizard", "rock")


def test_a_fair_kit_picks_uniformly_and_before_it_sees_the_hand() -> None:
    ref = Referee("fair", rng=random.Random(7))
    picks = Counter()
    results = Counter()
    for i in range(3000):
        ref.start_round()
        chosen = ref.kit_move              # committed before the player's shape is known
        results[ref.finish_round(MOVES[i % 3])] += 1
        assert ref.kit_move == chosen
        picks[chosen] += 1
    # chi-square against uniform, 2 degrees of freedom: 13.8 is the 0.1 % critical value
    chi2 = sum((n - 1000) ** 2 / 1000 for n in picks.values())
    assert chi2 < 13.8, picks
    # and the player wins about a third of the rounds
    assert 900 < results["win"] < 1100, results
    assert ref.rounds == 3000 and ref.wins + ref.kit_wins + ref.draws == 3000


def test_the_default_fair_kit_uses_the_system_random_source() -> None:
    assert isinstance(Referee().rng, random.SystemRandom)


def test_a_cheating_kit_always_wins() -> None:
    ref = Referee("cheat")
    for move in MOVES * 10:
        ref.start_round()
        assert ref.finish_round(move) == "lose"
    assert ref.kit_wins == 30 and ref.wins == 0


def test_a_round_needs_a_held_shape_and_then_an_empty_view() -> None:
    game = RpsGame(mode="cheat", min_frames=3)
    for shape in (None, "paper", "paper"):
        game.see(shape)
    assert game.referee.rounds == 0            # not held long enough yet
    game.see("paper")
    assert game.referee.rounds == 1 and game.lost.value
    for _ in range(10):
        game.see("rock")                       # same hand still up: no new round
    assert game.referee.rounds == 1
    for _ in range(3):
        game.see(None)
    assert not game.lost.value                 # the result clears when the hand leaves
    for _ in range(3):
        game.see("scissors")
    assert game.referee.rounds == 2 and game.kit_wins.value == 2
    game.close()


def test_a_hand_making_no_game_shape_never_counts() -> None:
    game = RpsGame(min_frames=2)
    for _ in range(20):
        game.see("")
    assert game.referee.rounds == 0
    game.close()
