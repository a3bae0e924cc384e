"""Practice items made from curriculum passages, with their answer keys.

An item is built from what a passage states, so its key is right by construction: a chemistry
entry gives its header fields ("Symbol: K Atomic number: 19 Atomic weight: 39.0983") and its
discoverer; a dictionary entry gives its first sense, asked as "which term means ...". Each
request draws the passage (among the best hits on the topic), the fact and the order of the
choices at random, so a student asking twice gets different items.
"""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from models.answer_eval import first_sense
from models.response_optimizer import FIELDS, key_terms, plain
from retrieval.shard import Hit

ItemKind = Literal["number", "symbol", "name", "term", "meaning"]
FIELD_KINDS: dict[str, ItemKind] = {
    "atomic number": "number",
    "atomic weight": "number",
    "symbol": "symbol",
    "discoverer": "name",
}
QUESTIONS = {
    "atomic number": "What is the atomic number of {t}?",
    "atomic weight": "What is the atomic weight of {t}?",
    "symbol": "What is the chemical symbol for {t}?",
    "discoverer": "Who discovered {t}?",
}
# Symbols to offer as wrong choices when the hits give too few of their own.
COMMON_SYMBOLS = [
    "H",
    "He",
    "Li",
    "C",
    "N",
    "O",
    "F",
    "Ne",
    "Na",
    "Mg",
    "Al",
    "Si",
    "P",
    "S",
    "Cl",
    "Ar",
    "K",
    "Ca",
    "Fe",
    "Cu",
    "Zn",
    "Ag",
    "Sn",
    "Au",
    "Hg",
    "Pb",
]
CHOICES = 4
PRACTICE_WORDS = re.compile(
    r"\b(?:quiz|test|ask)\s+me\b(?:\s+(?:on|about|some))?|\b(?:give|make|write|create|generate)"
    r"\s+(?:me\s+)?(?:an?\s+|some\s+)?(?:(?:practice|multiple[- ]choice|short|quick)\s+)*"
    r"(?:questions?|quiz(?:zes)?|problems?|"
    r"exercises?|items?)(?:\s+(?:on|about|for))?|\bi want to practi[cs]e\b(?:\s+(?:on|with))?|"
    r"\bpractice\s+(?:questions?|problems?|exercises?|quiz)(?:\s+(?:on|about|for))?|"
    r"\b(?:multiple[- ]choice|flashcards?)(?:\s+(?:on|about|for))?",
    re.I,
)


class Passage(BaseModel):
    """The passage an item was made from: the explanation a student reads after checking."""

    id: str
    title: str
    subject: str
    text: str


class PracticeItem(BaseModel):
    """An item with its key. Only `public()` of it reaches a client before the check."""

    item_id: str
    kind: ItemKind
    question: str
    choices: list[str] = Field(default_factory=list)
    key: str
    passage: Passage
    user_id: str | None = None

    def public(self) -> dict[str, object]:
        return {
            "item_id": self.item_id,
            "kind": self.kind,
            "question": self.question,
            "choices": self.choices,
            "subject": self.passage.subject,
            "source_id": self.passage.id,
        }

    def as_text(self) -> str:
        """What a client that reads only the answer's text shows."""
        lettered = [f"{'ABCD'[i]}) {choice}" for i, choice in enumerate(self.choices)]
        return "\n".join([self.question, *lettered])


def topic_of(request: str) -> str:
    """The topic of "quiz me on the noble gases": the request without its practice words."""
    topic = PRACTICE_WORDS.sub(" ", request)
    topic = re.sub(r"\s+", " ", topic).strip(" .?!:,")
    return topic or request


def facts_of(text: str) -> dict[str, str]:
    """The fields a chemistry passage states, by name."""
    found = {name: states.search(text) for name, (_, states) in FIELDS.items()}
    return {name: match.group(1).strip() for name, match in found.items() if match}


def make_item(
    hits: Sequence[Hit], rng: random.Random, user_id: str | None = None
) -> PracticeItem | None:
    """An item on the best hit that states something an item can be made from (the topic's
    own passage, as a rule), or None when none does."""
    for hit in hits:
        item = fact_item(hit, hits, rng) or term_item(hit, hits, rng)
        if item is not None:
            return item.model_copy(update={"user_id": user_id})
    return None


def fact_item(hit: Hit, hits: Sequence[Hit], rng: random.Random) -> PracticeItem | None:
    facts = facts_of(hit.text)
    if not facts:
        return None
    name = rng.choice(sorted(facts))
    key = facts[name]
    kind = FIELD_KINDS[name]
    others = [facts_of(h.text).get(name) for h in hits if h.doc_id != hit.doc_id]
    choices: list[str] = []
    if kind == "symbol":
        choices = with_distractors(key, [o for o in others if o] + COMMON_SYMBOLS, rng)
    elif kind == "number":
        choices = with_distractors(key, [o for o in others if o] + near_numbers(key, rng), rng)
    return PracticeItem(
        item_id=new_item_id(),
        kind=kind,
        question=QUESTIONS[name].format(t=hit.title),
        choices=choices,
        key=key,
        passage=passage_of(hit),
    )


def term_item(hit: Hit, hits: Sequence[Hit], rng: random.Random) -> PracticeItem | None:
    """ "Which term means: <its first sense>?" (the other hits' titles as wrong choices), or
    "What does <term> mean?" (their senses as wrong choices)."""
    sense = sense_of(hit)
    if len(key_terms(sense)) < 2:
        return None
    others = [h for h in hits if h.title.lower() != hit.title.lower()]
    senses = [s for s in (sense_of(h) for h in others) if len(key_terms(s)) >= 2]
    if len(senses) >= 2 and rng.random() < 0.5:
        return PracticeItem(
            item_id=new_item_id(),
            kind="meaning",
            question=f"What does {hit.title} mean?",
            choices=with_distractors(sense, senses, rng),
            key=sense,
            passage=passage_of(hit),
        )
    # The sense must not give the term away.
    hidden = re.sub(re.escape(hit.title), "___", sense, flags=re.I)
    titles = [h.title for h in others]
    return PracticeItem(
        item_id=new_item_id(),
        kind="term",
        question=f'Which term means: "{hidden}"?',
        choices=with_distractors(hit.title, titles, rng) if titles else [],
        key=hit.title,
        passage=passage_of(hit),
    )


def sense_of(hit: Hit) -> str:
    """The entry's first sense, tidied for reading ("language ." left by a removed aside)."""
    return re.sub(r"\s+([.,;:])", r"\1", first_sense(hit.text))


def with_distractors(key: str, pool: Sequence[str], rng: random.Random) -> list[str]:
    """The key and up to three different wrong choices, shuffled."""
    wrong = list(dict.fromkeys(p for p in pool if p.lower() != key.lower()))
    choices = [key, *rng.sample(wrong, min(CHOICES - 1, len(wrong)))]
    rng.shuffle(choices)
    return choices


def near_numbers(key: str, rng: random.Random) -> list[str]:
    """Plausible wrong numbers: the key moved by a few units, at the key's precision."""
    value = float(key)
    decimals = len(key.split(".")[1]) if "." in key else 0
    steps = rng.sample([-3, -2, -1, 1, 2, 3, 5, 8], 6)
    near = [round(value + step * max(1.0, value * 0.04), decimals) for step in steps]
    return [f"{n:.{decimals}f}" for n in near if n > 0]


def passage_of(hit: Hit) -> Passage:
    return Passage(id=hit.doc_id, title=hit.title, subject=hit.subject, text=plain(hit.text))


def new_item_id() -> str:
    """Opaque and unguessable: it names a stored key, and tells nothing about it."""
    return secrets.token_urlsafe(18)
