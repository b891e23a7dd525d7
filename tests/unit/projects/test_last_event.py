"""A lab's declared events are readable in its expressions: the newest event's data."""

from __future__ import annotations

from labkit.projects.lab import LastEvent


def test_the_index_is_where_the_label_stands_among_the_classes() -> None:
    guessed = LastEvent()
    first, second = guessed.index_is(0), guessed.index_is(1)
    assert (guessed.happened, guessed.index, first.value, second.value) == (False, -1, 0, 0)
    guessed.update({"label": "球", "probabilities": {"球": 0.9, "卡片": 0.1}})
    assert (guessed.index, first.value, second.value) == (0, 1, 0)
    guessed.update({"label": "卡片", "probabilities": {"球": 0.2, "卡片": 0.8}})
    assert (guessed.index, first.value, second.value) == (1, 0, 1)
    assert guessed.label_is("卡片").value == 1
    guessed.update({"label": None, "probabilities": {"球": 0.5, "卡片": 0.5}})
    assert guessed.index == -1 and first.value == 0
