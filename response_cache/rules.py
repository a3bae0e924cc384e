"""Response caching rules: what an answer is keyed on, when a similar question may reuse it,
how long it lives, and what is never cached. Storage is behind `stores.ResponseCache`.

A semantic hit must agree with the question on subject and on its key terms: a different
number, name or term ("noun" vs "pronoun", carbon vs oxygen) is a miss however close the
embeddings are. Paraphrases differ in function words and boilerplate, which key terms ignore.
"""

from __future__ import annotations

import hashlib
import re

from pydantic import BaseModel, ConfigDict, Field

from models.events import DoneEvent, Source
from retrieval.keyword import tokenize
from retrieval.preprocess import keyword_form, normalise

DAY = 86_400
# Words that change how a question is asked, not what it asks about.
NEUTRAL = frozenset(
    tokenize(
        [
            "mean meaning means definition define defined explain describe tell give "
            "word term simple simply briefly exactly called me you i we us please can could "
            "would know want need help"
        ]
    )[0]
)
_PERSONAL = re.compile(
    r"\b(my (progress|score|scores|grade|grades|results?|mistakes|answers?|level|weak)|"
    r"how am i doing|how did i do|diagnos\w*|what should i (study|revise|work on) next)\b",
    re.IGNORECASE,
)


class CacheConfig(BaseModel):
    """The cache's part of the router's `user_config`."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    semantic_threshold: float = Field(
        0.90, ge=0, le=1, description="Least cosine similarity for a semantic hit."
    )
    ttl_s: dict[str, int] = Field(
        default_factory=lambda: {
            "simple_factual": 7 * DAY,
            "complex_reasoning": 7 * DAY,
            "practice": 1 * DAY,
            "curriculum": 30 * DAY,
        },
        description="Lifetime by query class; a class missing here is not cached.",
    )


class CacheEntry(BaseModel):
    """A complete answer and what it was grounded on."""

    key: str
    question: str
    key_terms: list[str]
    subject: str | None
    class_level: int | None
    model_version: str
    curriculum: str
    query_class: str
    answer: str
    sources: list[Source]
    done: DoneEvent
    ttl_s: int

    @property
    def doc_ids(self) -> list[str]:
        return [s.id for s in self.sources]

    @property
    def subjects(self) -> set[str]:
        return {s.subject for s in self.sources}


def key_terms(question: str) -> frozenset[str]:
    """Stemmed content words and numbers, without boilerplate, stopwords or neutral words."""
    terms = tokenize([keyword_form(normalise(question))])[0]
    numbers = re.findall(r"\d+(?:\.\d+)?", question)
    return frozenset(t for t in terms if t not in NEUTRAL) | frozenset(numbers)


def exact_key(
    question: str, subject: str | None, class_level: int | None, model: str, curriculum: str
) -> str:
    """One answer per normalised question, subject, class level, model version and curriculum."""
    normal = normalise(question).lower().rstrip("?.! ")
    parts = [normal, subject or "", str(class_level or ""), model, curriculum]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def admissible(
    entry: CacheEntry,
    similarity: float,
    terms: frozenset[str],
    context: tuple[str | None, int | None, str, str],
    threshold: float,
) -> bool:
    """May `entry` answer a question with these key terms and context (subject, class level,
    model version, curriculum)?"""
    subject, class_level, model, curriculum = context
    same_context = (entry.subject, entry.class_level, entry.model_version, entry.curriculum) == (
        subject,
        class_level,
        model,
        curriculum,
    )
    return similarity >= threshold and same_context and frozenset(entry.key_terms) == terms


def is_personal(question: str) -> bool:
    """Diagnostic or personal questions ("how am I doing?") are never cached."""
    return bool(_PERSONAL.search(question))
