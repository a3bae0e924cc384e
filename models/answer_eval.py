"""Answer quality from outside: questions with known answers, built from the curriculum, and
how to judge an answer to each.

Facts (chemistry: atomic number, symbol, atomic weight, discoverer) are right when the answer
states the passage's value: the number at the passage's or a coarser precision, the symbol as
written, the discoverer's surname. Definitions (computing, english) are right when the answer
holds at least half of the definition's key terms (its first sense, at most six terms).
Questions are split by document (a hash of its id), so no document is in both sets.
"""

from __future__ import annotations

import hashlib
import random
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from models.response_optimizer import (
    FIELDS,
    defining_terms,
    holds_half,
    numbers_in,
    plain,
    same_number,
)

Kind = Literal["atomic number", "symbol", "atomic weight", "discoverer", "definition"]
# Several ways a student asks for each fact; the builder picks one per question.
FORMS: dict[str, list[str]] = {
    "atomic number": [
        "What is the atomic number of {t}?",
        "How many protons does an atom of {t} have?",
        "what's {t}'s atomic number",
    ],
    "symbol": [
        "What is the chemical symbol for {t}?",
        "Which symbol stands for {t} on the periodic table?",
        "symbol of {t}?",
    ],
    "atomic weight": [
        "What is the atomic weight of {t}?",
        "What is the atomic mass of {t}?",
    ],
    "discoverer": ["Who discovered {t}?", "Who first isolated {t}?"],
    "definition": ["What is {t}?", "What does {t} mean?", "Define {t}."],
}


class AnswerQuestion(BaseModel):
    question: str
    kind: Kind
    subject: str
    doc_id: str
    expected: str  # the value, or the definition's first sense
    key_terms: list[str] = []  # definitions: what a right answer mentions


def split_of(doc_id: str) -> str:
    """dev or test, by the document: stable whatever the set's size."""
    return "dev" if hashlib.sha256(doc_id.encode()).digest()[0] % 2 == 0 else "test"


def fact_questions(doc: dict[str, Any], rng: random.Random) -> list[AnswerQuestion]:
    questions = []
    for kind, (_, states) in FIELDS.items():
        found = states.search(doc["text"])
        if found is None:
            continue
        form = rng.choice(FORMS[kind]).format(t=doc["title"])
        questions.append(
            AnswerQuestion(
                question=form,
                kind=kind,  # type: ignore[arg-type]
                subject=doc["subject"],
                doc_id=doc["id"],
                expected=found.group(1).strip(),
            )
        )
    return questions


def first_sense(text: str) -> str:
    """A dictionary entry's first sense: WordNet's "n 1: ...", FOLDOC's text up to its first
    sentence, without tags like <networking> or [syn: ...]."""
    text = plain(re.sub(r"\([^)]*\)", " ", text))
    first = re.split(r"\s+\d+:\s|(?<=[.;])\s", text.strip(), maxsplit=1)[0]
    return " ".join(first.split())


def definition_question(doc: dict[str, Any], rng: random.Random) -> AnswerQuestion | None:
    sense = first_sense(doc["text"])
    terms = defining_terms(sense, doc["title"])
    if len(terms) < 2:
        return None  # too short to judge by its terms
    return AnswerQuestion(
        question=rng.choice(FORMS["definition"]).format(t=doc["title"]),
        kind="definition",
        subject=doc["subject"],
        doc_id=doc["id"],
        expected=sense,
        key_terms=terms,
    )


def build(
    docs: Iterable[dict[str, Any]],
    definitions: set[str],
    seed: int = 20261201,
    per_kind: int = 15,
) -> dict[str, list[AnswerQuestion]]:
    """Chemistry facts the passages state (at most `per_kind` of each kind a split: a CPU
    model answers a few a second), and a definition question for each listed document id;
    split by document."""
    rng = random.Random(seed)
    sets: dict[str, list[AnswerQuestion]] = {"dev": [], "test": []}
    for doc in docs:
        made: list[AnswerQuestion] = []
        if doc["subject"] == "chemistry":
            made = fact_questions(doc, rng)
        elif doc["id"] in definitions:
            question = definition_question(doc, rng)
            made = [question] if question else []
        sets[split_of(doc["id"])].extend(made)
    return {split: capped(questions, per_kind, rng) for split, questions in sets.items()}


def capped(
    questions: list[AnswerQuestion], per_kind: int, rng: random.Random
) -> list[AnswerQuestion]:
    kept: list[AnswerQuestion] = []
    for kind in FORMS:
        of_kind = [q for q in questions if q.kind == kind]
        if kind != "definition" and len(of_kind) > per_kind:
            of_kind = rng.sample(of_kind, per_kind)
        kept.extend(of_kind)
    return kept


def is_right(answer: str, item: AnswerQuestion) -> bool:
    text = re.sub(r"\[\d+\]", " ", answer)
    if item.kind in ("atomic number", "atomic weight"):
        return any(same_number(n, item.expected) for n in numbers_in(text))
    if item.kind == "symbol":
        pattern = rf"(?<![A-Za-z]){re.escape(item.expected)}(?![A-Za-z-])"
        return re.search(pattern, text) is not None
    if item.kind == "discoverer":
        return item.expected.split()[-1].lower() in text.lower()
    return holds_half(text, item.key_terms)


@dataclass
class Tally:
    """One column of the report: a model and an optimizer mode over the question set."""

    name: str
    right: int = 0
    asked: int = 0
    failed: int = 0  # no answer (an error status)
    verdicts: dict[str, int] = field(default_factory=dict)
    latencies_s: list[float] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def add(self, item: AnswerQuestion, answer: str, verdict: str | None, latency_s: float) -> None:
        self.asked += 1
        self.latencies_s.append(latency_s)
        key = verdict or "unchecked"
        self.verdicts[key] = self.verdicts.get(key, 0) + 1
        if is_right(answer, item):
            self.right += 1
        else:
            self.wrong.append(f"{item.question} -> {answer[:100]!r} (expected {item.expected})")

    @property
    def accuracy(self) -> float:
        return self.right / self.asked if self.asked else 0.0

    def share(self, verdict: str) -> float:
        return self.verdicts.get(verdict, 0) / self.asked if self.asked else 0.0

    def percentile(self, q: float) -> float:
        values = sorted(self.latencies_s)
        if len(values) < 2:
            return values[0] if values else 0.0
        return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def format_report(tallies: Sequence[Tally]) -> str:
    head = (
        "| model / optimizer | asked | fact accuracy | supported | repaired | unsupported "
        "| unchecked | p50 s | p95 s |"
    )
    rows = [head, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for t in tallies:
        shares = " | ".join(
            f"{t.share(v):.1%}" for v in ("supported", "repaired", "unsupported", "unchecked")
        )
        rows.append(
            f"| {t.name} | {t.asked} | {t.accuracy:.1%} | {shares} | "
            f"{t.percentile(0.5):.2f} | {t.percentile(0.95):.2f} |"
        )
    return "\n".join(rows)
