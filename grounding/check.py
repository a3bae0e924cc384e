"""The check: does this answer answer the question that was asked, from the passage the
answer must come from?

Verdicts (what the page shows):
- `supported` ("Checked against the sources"): the answer supplies what was asked, from the
  entry the question is about, and every number and name it states is in that entry's
  passage (or the question);
- `unsupported` (flag mode; in repair mode it is repaired or made `unverified`);
- `repaired` ("Corrected to match the sources"): the answer was replaced by one that passes
  this same check;
- `unverified` ("Could not be checked against the sources"): no retrieved entry lets the
  check say what the answer must be. Where the question asks for a fact that nothing
  retrieved holds, the answer is replaced by a sentence saying the curriculum does not say.

What each question kind must supply (`grounding.question`): a field's value (`field`); the
title of the entry holding the given value, or the entry whose definition the question
gives (`entry`); the winner of a comparison by a shared field (`comparison`); two thirds of
the key terms of the entry's defining sentence (`definition`); a value of the wanted type from
the passage sentence about what is asked (`detail`). An `open` question ("explain X", "why")
has nothing the check can require: its answer is `unverified` when its claims hold, and
repaired when one does not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grounding.question import Asked, Entry
from grounding.text import (
    NAME,
    YEAR,
    defining_terms,
    defining_unit,
    holds_half,
    holds_number,
    holds_share,
    is_field_unit,
    key_terms,
    mentions,
    numbers_in,
    passage_units,
    same_number,
    uncited,
)

AGENT = re.compile(r"\bby\s+(?:[A-Z][a-z]*\.\s*)*[A-Z][a-z]+")
Verdict = Literal["supported", "repaired", "unsupported", "unverified"]
# A definition must hold this share of the defining sentence's key terms (at most six).
DEFINITION_SHARE = 2 / 3


class GroundingConfig(BaseModel):
    """The router's `grounding` user_config."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["off", "flag", "repair"] = Field(
        "repair",
        description="off: no check; flag: mark unsupported answers; repair: also fix them.",
    )
    min_term_overlap: float = Field(
        0.5,
        ge=0,
        le=1,
        description="For an open question: the share of the answer's key terms the entry "
        "it is about must hold.",
    )
    regenerate: bool = Field(
        False,
        description="Repair first by asking the model again with the passage's answer "
        "quoted (a second model call), before the passage's own words.",
    )


@dataclass(frozen=True)
class Grounding:
    verdict: Verdict
    score: float
    unsupported: list[str] = field(default_factory=list)

    def as_repaired(self) -> Grounding:
        return Grounding("repaired", self.score, self.unsupported)


@dataclass(frozen=True)
class Evidence:
    """What the answer may rest on: the question, the entries given to the model, and the
    check's reading of the question against them."""

    question: str
    sources: Sequence[Entry]
    asked: Asked

    def target(self, position: int = 0) -> Entry:
        return self.sources[self.asked.targets[position]]

    @property
    def target_text(self) -> str:
        return "\n".join(
            f"{self.sources[i].title}. {self.sources[i].text}" for i in self.asked.targets
        )

    # Read once per question: the check, its repair and the check of the repair all ask.
    @cached_property
    def answer_unit(self) -> str | None:
        return find_answer_unit(self)

    @cached_property
    def definition_terms(self) -> list[str]:
        target = self.target()
        return defining_terms(defining_unit(target.text), target.title)


def check(answer: str, evidence: Evidence, config: GroundingConfig) -> Grounding:
    asked = evidence.asked
    if not asked.answerable or (asked.kind == "comparison" and asked.label is None):
        return Grounding("unverified", 0.0, ["no retrieved entry holds what was asked"])
    if asked.kind == "definition" and len(evidence.definition_terms) < 2:
        return Grounding("unverified", 0.0, ["the entry's definition is too short to judge by"])
    text = uncited(answer)
    missing = unheld_claims(text, evidence) + unanswered(text, evidence, config)
    if asked.kind == "detail" and evidence.answer_unit is None and not missing:
        return Grounding("unverified", 0.0, ["the entry does not say what was asked"])
    if asked.kind == "open" and not missing:
        # Its words are the entry's, but nothing says it answers the question: no promise.
        return Grounding(
            "unverified", 0.0, ["an open question: its claims hold, its answer unchecked"]
        )
    missing = list(dict.fromkeys(missing))
    return Grounding("unsupported" if missing else "supported", 0.0 if missing else 1.0, missing)


def unheld_claims(text: str, evidence: Evidence) -> list[str]:
    """Numbers and names the answer states that neither the target entries nor the question
    hold: a true fact about another entry is not evidence for this one."""
    held = evidence.target_text
    held_numbers = numbers_in(held) + numbers_in(evidence.question)
    missing = [n for n in numbers_in(text) if not any(same_number(n, h) for h in held_numbers)]
    lowered = (held + " " + evidence.question).lower()
    for name in NAME.findall(text):
        if not all(part.lower() in lowered for part in name.replace(".", " ").split()):
            missing.append(name)
    return missing


def unanswered(text: str, evidence: Evidence, config: GroundingConfig) -> list[str]:
    """What the question asked for that the answer does not supply."""
    asked = evidence.asked
    if asked.kind == "field" and asked.label is not None:
        value = evidence.target().value(asked.label) or ""
        return [] if supplies(text, value) else [f"{asked.label}: {value}"]
    if asked.kind in ("entry", "comparison"):
        wanted = expected_entries(evidence)
        first = first_named(text, evidence.sources)
        return [] if first in wanted else [f"names {evidence.sources[wanted[0]].title}"]
    if asked.kind == "definition":
        terms = evidence.definition_terms
        return [] if holds_share(text, terms, DEFINITION_SHARE) else ["definition"]
    if asked.kind == "detail":
        return missing_detail(text, evidence)
    return open_terms(text, evidence, config)


def supplies(text: str, value: str) -> bool:
    if value.replace(".", "", 1).isdigit():
        return holds_number(text, value)
    return mentions(text, value)


def expected_entries(evidence: Evidence) -> list[int]:
    """The entries a right answer names: the holders of the given value, or the winner."""
    asked = evidence.asked
    if asked.kind != "comparison" or asked.label is None:
        return asked.targets
    label = asked.label
    values = [float(evidence.sources[i].value(label) or "nan") for i in asked.targets]
    order = sorted(zip(values, asked.targets, strict=True), reverse=asked.direction > 0)
    return [order[0][1]]


def first_named(text: str, sources: Sequence[Entry]) -> int | None:
    """The source whose title or other name the answer mentions first."""
    best: tuple[int, int] | None = None
    lowered = text.lower()
    for index, source in enumerate(sources):
        for name in source.names:
            if mentions(text, name):
                at = lowered.find(name.lower())
                if best is None or at < best[0]:
                    best = (at, index)
    return None if best is None else best[1]


def find_answer_unit(evidence: Evidence) -> str | None:
    """The sentence of the target entry about what the question asks: most of its asked
    terms, and a value of the kind it wants."""
    asked = evidence.asked
    units = passage_units(evidence.target().text)
    best: tuple[int, str] | None = None
    for unit in units:
        overlap = len(asked.terms & key_terms(unit))
        if overlap and wanted_values(unit, asked.wants) and (best is None or overlap > best[0]):
            best = (overlap, unit)
    if best is None and asked.wants in ("name", "year"):
        # "Who discovered sodium?" of "It was first isolated by Humphrey Davy": in other words,
        # but the entry's only sentence naming a person (or a year) is the one asked about.
        holding = [u for u in units if not is_field_unit(u) and wanted_values(u, asked.wants)]
        if asked.wants == "name" and len(holding) > 1:
            holding = [u for u in holding if AGENT.search(u)]  # "... by Karl Scheele"
        return holding[0] if len(holding) == 1 else None
    return None if best is None else best[1]


def wanted_values(unit: str, wants: str) -> list[str]:
    if wants == "year":
        return YEAR.findall(unit)
    if wants == "number":
        return numbers_in(unit)
    if wants == "name":
        return [n.split()[-1] for n in NAME.findall(" " + unit[0].lower() + unit[1:])]
    return numbers_in(unit) or list(key_terms(unit))


def wanted_kind(value: str, wants: str) -> bool:
    """Whether a field's value is of the kind a question wants."""
    if wants in ("number", "year"):
        return bool(numbers_in(value))
    if wants == "name":
        return bool(NAME.findall(" x " + value))
    return True


def missing_detail(text: str, evidence: Evidence) -> list[str]:
    unit = evidence.answer_unit
    if unit is None:
        return []
    values = wanted_values(unit, evidence.asked.wants)
    if evidence.asked.wants == "any" and not numbers_in(unit):
        return [] if holds_half(text, sorted(values)[:6]) else [f"detail: {unit[:120]}"]
    found = any(supplies(text, v) if v[0].isdigit() else v.lower() in text.lower() for v in values)
    return [] if found else [f"detail: {unit[:120]}"]


def open_terms(text: str, evidence: Evidence, config: GroundingConfig) -> list[str]:
    terms = key_terms(text)
    held = key_terms(evidence.target_text + " " + evidence.question)
    share = len(terms & held) / len(terms) if terms else 0.0
    return [] if share >= config.min_term_overlap else sorted(terms - held)[:8]
