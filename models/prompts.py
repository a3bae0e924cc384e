"""Prompts: a tutor's instructions, the retrieved sources, and the conversation so far."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from models.backend import ChatMessage

SYSTEM_PROMPT = (
    "You are a patient tutor for school students. Answer the question using only the numbered "
    "sources below, in two or three short sentences, and cite the sources you used like [1]. "
    "If the sources do not contain the answer, say that you do not know."
)


@dataclass(frozen=True)
class SourceText:
    title: str
    text: str


def format_sources(sources: Sequence[SourceText], max_chars: int = 600) -> str:
    # Small models lose the question behind long context; the head of an entry holds its facts.
    return "\n".join(
        f"[{number}] {s.title}: {s.text[:max_chars]}" for number, s in enumerate(sources, start=1)
    )


def build_messages(
    question: str,
    sources: Sequence[SourceText],
    history: Sequence[ChatMessage] = (),
    profile_note: str = "",
) -> list[ChatMessage]:
    system = SYSTEM_PROMPT + (f"\nThe student: {profile_note}" if profile_note else "")
    system += "\n\nSources:\n" + (format_sources(sources) or "(none found)")
    return [ChatMessage("system", system), *history, ChatMessage("user", question)]
