"""Conversation context: a token-bounded window of recent turns, the summary of older ones,
and follow-up questions rewritten to stand alone before retrieval and caching."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from conversation.sessions import Session, Turn

TokenCounter = Callable[[str], int]

_PRONOUN = re.compile(r"\b(its|it's|it|their|they|them)\b", re.IGNORECASE)
_WHAT_ABOUT = re.compile(r"^(?:and\s+)?(?:what|how)\s+about\s+(.+?)\s*\??$", re.IGNORECASE)
_LEAD = re.compile(r"^(?:and|also|so|then)\b[\s,]*", re.IGNORECASE)
_POSSESSIVE_PRONOUNS = {"its", "it's", "their"}


def tokenizer_counter(tokenizer_json: Path) -> TokenCounter:
    """Token counts with the serving model's own tokenizer (its tokenizer.json)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_json))
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)


def approximate_counter(text: str) -> int:
    """A stand-in when the model's tokenizer is not on this node: ~1.3 tokens a word."""
    return int(len(text.split()) * 1.3) + 1


@dataclass(frozen=True)
class Window:
    turns: list[Turn]  # the most recent turns that fit, oldest first
    dropped: int  # how many older turns fell out (and belong in the summary)


def sliding_window(turns: Sequence[Turn], max_tokens: int, count: TokenCounter) -> Window:
    """The longest suffix of `turns` within `max_tokens` (whole turns only)."""
    kept: list[Turn] = []
    used = 0
    for turn in reversed(turns):
        cost = count(turn.content) + 4  # role markers and separators
        if used + cost > max_tokens:
            break
        kept.append(turn)
        used += cost
    return Window(list(reversed(kept)), len(turns) - len(kept))


def refers_back(question: str) -> bool:
    """Does the question lean on the conversation ("it", "what about ...")?"""
    return bool(_PRONOUN.search(question) or _WHAT_ABOUT.match(question.strip()))


def last_topic(session: Session | None) -> tuple[str, str] | None:
    """(the previous question, the title of its top source): what a follow-up refers to."""
    if session is None:
        return None
    for index in range(len(session.turns) - 1, 0, -1):
        answer, question = session.turns[index], session.turns[index - 1]
        if answer.role == "assistant" and answer.topic and question.role == "user":
            return question.content, answer.topic
    return None


def standalone(question: str, session: Session | None) -> str:
    """The question rewritten to stand alone, or unchanged when it does not depend on the
    conversation. "and what about its atomic weight?" after a question answered from the entry
    *carbon* becomes "what is carbon's atomic weight?"; "what about oxygen?" after "What is the
    atomic number of carbon?" becomes "What is the atomic number of oxygen?"."""
    previous = last_topic(session)
    if previous is None:
        return question
    prior_question, topic = previous
    about = _WHAT_ABOUT.match(question.strip())
    if about and not _PRONOUN.search(about.group(1)):
        entity = about.group(1)
        swapped = re.sub(re.escape(topic), entity, prior_question, flags=re.IGNORECASE)
        return swapped if swapped != prior_question else f"What is {entity}?"
    if not _PRONOUN.search(question):
        return question
    rewritten = _PRONOUN.sub(lambda m: replacement(m.group(1), topic), question)
    rewritten = re.sub(r"^(?:and\s+)?(?:what|how)\s+about\b", "what is", rewritten, flags=re.I)
    return _LEAD.sub("", rewritten).strip()


def replacement(pronoun: str, topic: str) -> str:
    return f"{topic}'s" if pronoun.lower() in _POSSESSIVE_PRONOUNS else topic
