"""Practice items made from curriculum passages, with their answer keys.

An item is built from what a passage states, so its key is right by construction: a field the
entry states ("Label: value", learned from the curriculum at ingest and carried by the hit as
`Hit.facts`) is asked as "What is the <label> of <title>?"; an entry's first sentence is asked
as "which term means ...". Nothing here names a subject or its fields. Each request draws the
passage (among the best hits on the topic), the fact and the order of the choices at random, so
a student asking twice gets different items.
"""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from grounding.text import key_terms, plain
from retrieval.shard import Hit

# How a key is graded (`practice.grading`), told by the value's shape alone.
ItemKind = Literal["number", "code", "name", "value", "term", "meaning"]
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
CODE = re.compile(r"[A-Z][A-Za-z0-9]{0,2}")  # one short token with a capital: "K", "Fe", "USD"
# The structure cuts a field's prose value at four words: a value that long may be cut prose.
MAX_VALUE_WORDS = 3
MIN_WRONG = 2  # a code with fewer wrong choices than this is asked open
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
    label: str | None = None  # a field item's label, as the entry writes it
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


def fact_question(label: str, title: str) -> str:
    """How a field is asked: from its label as the entry writes it ("Atomic number")."""
    return f"What is the {label.lower()} of {title}?"


def item_facts(hit: Hit) -> dict[str, str]:
    """The hit's learned fields an item can ask, by label: one value (not a list) of at most
    three words, stated in the passage the student reads after checking."""
    shown = plain(hit.text)
    return {label: value for label, value in hit.facts if is_askable(label, value, shown)}


def is_askable(label: str, value: str, shown: str) -> bool:
    if "," in value or ":" in value or len(value.split()) > MAX_VALUE_WORDS:
        return False
    return f"{label}:" in shown and value in shown


def kind_of(value: str) -> ItemKind:
    """How a field's value is graded: a number within a tolerance, a code in any case, a name
    (two or more capitalised words) by its last word, any other value as written."""
    if NUMBER.fullmatch(value):
        return "number"
    if CODE.fullmatch(value):
        return "code"
    words = value.split()
    if len(words) > 1 and words[0][:1].isupper() and words[-1][:1].isupper():
        return "name"
    return "value"


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
    facts = item_facts(hit)
    if not facts:
        return None
    label = rng.choice(sorted(facts))
    key = facts[label]
    kind = kind_of(key)
    return PracticeItem(
        item_id=new_item_id(),
        kind=kind,
        label=label,
        question=fact_question(label, hit.title),
        choices=fact_choices(kind, key, values_of(label, hit, hits), rng),
        key=key,
        passage=passage_of(hit),
    )


def values_of(label: str, hit: Hit, hits: Sequence[Hit]) -> list[str]:
    """Other entries' values of the same field: the wrong choices on offer."""
    return [
        value
        for other in hits
        if other.doc_id != hit.doc_id
        for name, value in item_facts(other).items()
        if name.lower() == label.lower()
    ]


def fact_choices(kind: ItemKind, key: str, others: list[str], rng: random.Random) -> list[str]:
    """A number among others and near ones; a code among other entries' codes when there are
    enough; anything else is asked open (its wrong choices would give the key away)."""
    alike = [o for o in others if kind_of(o) == kind]
    if kind == "number":
        return with_distractors(key, alike + near_numbers(key, rng), rng)
    if kind == "code" and len({o.lower() for o in alike} - {key.lower()}) >= MIN_WRONG:
        return with_distractors(key, alike, rng)
    return []


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


def first_sense(text: str) -> str:
    """An entry's first sense: its text up to the first sentence's end or the next numbered
    sense ("1: ... 2: ..."), without tags, bracketed notes and asides in parentheses."""
    text = plain(re.sub(r"\([^)]*\)", " ", text))
    first = re.split(r"\s+\d+:\s|(?<=[.;])\s", text.strip(), maxsplit=1)[0]
    return " ".join(first.split())


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
