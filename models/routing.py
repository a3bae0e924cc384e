"""Model selection: classify a question, then walk the configured policy's backend chain."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

QueryClass = Literal["simple_factual", "complex_reasoning", "curriculum", "practice"]
QUERY_CLASSES: tuple[QueryClass, ...] = (
    "simple_factual",
    "complex_reasoning",
    "curriculum",
    "practice",
)

_PRACTICE = re.compile(
    r"\b(quiz me|test me|ask me (about|on|some)|i want to practi[cs]e|flashcards?|"
    r"multiple[- ]choice|practi[cs]e (questions?|problems?|exercises?|quiz)|"
    r"(give|make|write|create|generate)\b[^.?!]*\b(questions?|quiz(zes)?|problems?|"
    r"exercises?|worksheets?))\b",
    re.IGNORECASE,
)
_COMPLEX = re.compile(
    r"\b(why|how (do|does|did|can|could|would|is|are)|compare|contrast|difference between|"
    r"what would happen|(explain|describe) (how|why)|prove|analy[sz]e|evaluate|step by step|"
    r"derive|relationship between|advantages|disadvantages|pros and cons)\b",
    re.IGNORECASE,
)
_CURRICULUM = re.compile(
    r"\b(our|my) (\w+ )?(class|lesson|unit|syllabus|curriculum|textbook|course|coursework|"
    r"teacher|homework)\b|"
    r"\b(syllabus|curriculum|in class|for the exam|homework|coursework|assessment criteria|"
    r"revise|revision|the \w+ unit|according to the (lesson|unit|text))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Classification:
    query_class: QueryClass
    rule: str  # which rule decided, reported as the answer's `route`


def classify(question: str) -> Classification:
    """Rules in priority order: an explicit practice request, then curriculum references,
    then reasoning cues (or a long question), else a simple factual question."""
    if _PRACTICE.search(question):
        return Classification("practice", "practice-request")
    if _CURRICULUM.search(question):
        return Classification("curriculum", "curriculum-reference")
    if _COMPLEX.search(question):
        return Classification("complex_reasoning", "reasoning-cue")
    if len(question.split()) > 30:
        return Classification("complex_reasoning", "long-question")
    return Classification("simple_factual", "default-factual")


class RoutePolicy(BaseModel):
    """Class -> ordered backend names (primary first, then fallbacks); `user_config`-tunable."""

    model_config = ConfigDict(extra="forbid")

    routes: dict[QueryClass, list[str]] = Field(
        default_factory=lambda: {c: ["local"] for c in QUERY_CLASSES},
        description="Backend names per query class, tried in order.",
    )
    default: list[str] = Field(default_factory=lambda: ["local"])

    def chain(self, query_class: QueryClass, deployed: Iterable[str]) -> list[str]:
        """The configured chain restricted to deployed backends (a route may name one that
        this deployment does not run, e.g. an OpenAI tier without a key)."""
        available = set(deployed)
        chain = [b for b in self.routes.get(query_class, self.default) if b in available]
        return chain or [b for b in self.default if b in available]


@dataclass(frozen=True)
class RouteChoice:
    """Where one question goes: its class, the rule that decided, its A/B arm (or ""), and the
    backends to try in order."""

    query_class: QueryClass
    rule: str
    arm: str
    chain: list[str]

    def route(self, backend: str | None) -> str:
        """The answer's `route`: the rule and the backend that answered (or the fallback)."""
        return f"{self.rule}->{backend or 'sources-only'}"
