"""Splitting long documents into passages the embedder can see whole (MiniLM reads ~256 tokens)."""

from __future__ import annotations

import re

# A sentence end followed by whitespace; good enough for dictionary-style curriculum text.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")


def split_passages(text: str, max_chars: int = 1000) -> list[str]:
    """Greedy sentence packing into passages of at most `max_chars` (a longer sentence is cut)."""
    passages: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text.strip()):
        for piece in _hard_wrap(sentence, max_chars):
            if not piece:
                continue
            if current and len(current) + 1 + len(piece) > max_chars:
                passages.append(current)
                current = piece
            else:
                current = f"{current} {piece}" if current else piece
    if current:
        passages.append(current)
    return passages


def _hard_wrap(sentence: str, max_chars: int) -> list[str]:
    return [sentence[i : i + max_chars] for i in range(0, len(sentence), max_chars)]
