"""Conversation context: the token window, and follow-ups rewritten to stand alone."""

from __future__ import annotations

import pytest

from conversation.context import approximate_counter, refers_back, sliding_window, standalone
from conversation.sessions import Session, Turn


def session_after(question: str, topic: str) -> Session:
    return Session(
        id="s" * 32,
        user_id="amina",
        turns=[
            Turn(role="user", content=question),
            Turn(role="assistant", content="...", topic=topic),
        ],
    )


CARBON = session_after("What is the atomic number of carbon?", "carbon")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("and what about its atomic weight?", "what is carbon's atomic weight?"),
        ("What is its symbol?", "What is carbon's symbol?"),
        ("Is it a metal?", "Is carbon a metal?"),
        ("what about oxygen?", "What is the atomic number of oxygen?"),
        ("What is a noun?", "What is a noun?"),  # a new question stays as it is
    ],
)
def test_follow_ups_are_rewritten_to_stand_alone(question: str, expected: str):
    assert standalone(question, CARBON) == expected


def test_without_a_previous_answer_nothing_is_rewritten():
    assert standalone("What is its symbol?", None) == "What is its symbol?"
    assert refers_back("What is its symbol?") and not refers_back("What is gold?")


def test_the_window_keeps_the_newest_turns_that_fit():
    turns = [Turn(role="user", content=f"question number {n} " * 10) for n in range(10)]
    window = sliding_window(turns, max_tokens=100, count=approximate_counter)
    assert window.turns == turns[-len(window.turns) :] and 0 < len(window.turns) < 10
    assert window.dropped == 10 - len(window.turns)
    assert sum(approximate_counter(t.content) + 4 for t in window.turns) <= 100
