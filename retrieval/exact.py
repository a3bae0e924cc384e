"""Exact look-up: entries a question names by title or other name, and entries whose learned
field holds a value the question gives ("atomic number 40", "symbol F", "DACTL").

Dense and BM25 search rank by resemblance, and a number or a one-letter code resembles many
passages: "which element has atomic number 40" brought hydrogen first. An exact match is a
third ranking that fusion adds to theirs (`retrieval.fusion`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.structure import Structure

TOKEN = re.compile(r"[A-Za-z0-9][\w.'+-]*[A-Za-z0-9]|[A-Za-z0-9]")
MAX_TITLE_WORDS = 6
# Words too common to name an entry on their own, whatever the curriculum has an entry for.
COMMON = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "the",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "why",
        "with",
    ]
)
VALUE_BONUS = 100.0  # a value the question gives outranks any title it names


@dataclass(frozen=True)
class ExactMatch:
    row: int  # the passage row of the entry's first passage
    score: float  # higher first: values, then longer titles, then later in the question


def tokens(text: str) -> list[str]:
    return [t.rstrip(".") for t in TOKEN.findall(text)]


def normal_value(value: str) -> str:
    """A value as compared: numbers without a trailing .0, other values as written."""
    value = value.strip()
    if re.fullmatch(r"\d+\.0+", value):
        return value.split(".")[0]
    return value


class ExactLookup:
    """Titles, other names and field values of one shard's entries, each to its first row."""

    def __init__(self, firsts: Sequence[tuple[int, str, str]], structure: Structure) -> None:
        self._names: dict[str, int] = {}
        self._values: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for row, doc_id, title in firsts:
            facts = structure.facts(doc_id)
            for name in (title, *facts.aliases):
                self._names.setdefault(name.lower(), row)
            for label, value in facts.fields.items():
                self._values[normal_value(value)].append((row, label.lower()))

    def __len__(self) -> int:
        return len(self._names) + len(self._values)

    def find(self, query: str, limit: int = 5) -> list[ExactMatch]:
        words = tokens(query)
        lowered = query.lower()
        scores: dict[int, float] = {}
        for row, score in [*self._by_value(words, lowered), *self._by_name(words)]:
            scores[row] = max(score, scores.get(row, 0.0))
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        return [ExactMatch(row, score) for row, score in ranked[:limit]]

    def _by_value(self, words: list[str], query: str) -> list[tuple[int, float]]:
        found = []
        for word in words:
            if word.lower() in COMMON:
                continue
            for row, label in self._values.get(normal_value(word), []):
                # A value under a label the question names beats the same value elsewhere.
                named = label in query or label.split()[-1] in query
                if len(word) == 1 and word.isalpha() and not named:
                    continue  # "I", "a": a one-letter value counts only under its label
                found.append((row, VALUE_BONUS * (2 if named else 1)))
        return found

    def _by_name(self, words: list[str]) -> list[tuple[int, float]]:
        """Titles as whole word runs, longest first; a run inside a longer match is not a
        name of its own ("object" inside "object-oriented programming")."""
        lowered = [w.lower() for w in words]
        found: list[tuple[int, float]] = []
        covered: set[int] = set()
        for size in range(min(MAX_TITLE_WORDS, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                span = set(range(start, start + size))
                phrase = " ".join(lowered[start : start + size])
                row = self._names.get(phrase)
                if row is None or span & covered or not self._nameworthy(words[start:], size):
                    continue
                covered |= span
                found.append((row, len(phrase) + 0.01 * start))
        return found

    @staticmethod
    def _nameworthy(words: list[str], size: int) -> bool:
        if size > 1:
            return True
        word = words[0]
        return word.lower() not in COMMON and (len(word) >= 3 or word.isupper())
