"""What a question asks, read against the entries retrieved for it: the entries it names, the
field values it gives, the field or detail it asks for, and so which entries must hold the
answer (its *targets*). English question words only; no subject's fields or templates: the
fields are those the curriculum's own entries state (`retrieval.structure`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from grounding.text import defining_unit, key_terms, numbers_in
from retrieval.exact import COMMON

Vector = npt.NDArray[np.float32]
# The question's embedding against each label's: a label is meant when it is this close and
# this much closer than the next. Set from a dozen development questions with MiniLM: "how
# many protons" came 0.04-0.11 nearer atomic number than atomic weight, "which group is X in"
# 0.38-0.41 from atomic number; precision first, so a narrow margin is left unread.
MEANT_AT = 0.4
MEANT_BY = 0.08

DEFINITION_WORDS = frozenset(key_terms("define definition meaning means explain describe"))
Kind = Literal["field", "entry", "comparison", "definition", "detail", "open"]
Wants = Literal["number", "year", "name", "entry", "any"]

DEFINITION = re.compile(
    r"^\s*(?:what\s+(?:is|are)\s+(?:an?\s+|the\s+)?|what's\s+(?:an?\s+)?|define\b|"
    r"what\s+does\b.*\b(?:mean|stand\s+for)\b|what\s+is\s+the\s+meaning\s+of\b|meaning\s+of\b)",
    re.I,
)
# "Which element ...", "What word means ...", "Name the element ...": the answer is an entry.
ASKS_ENTRY = re.compile(
    r"^\s*(?:which|what|name)\s+(?!(?:is|are|was|were|does|do|did|has|have|can)\b)"
    r"(?:the\s+|an?\s+)?(\w+)\b",
    re.I,
)
# "Which word means ...", "What is the term for a ...", "What do you call a ...": the
# question gives a definition and asks for the entry it defines.
REVERSE = re.compile(
    r"^\s*(?:(?:which|what)\s+(?:word|term|name)\s+(?:means|describes|is\s+used\s+for)\b"
    r"|what\s+is\s+the\s+(?:word|term|name)\s+for\s+(?:an?|the)\b"
    r"|what\s+do\s+(?:you|we)\s+call\s+(?:an?|the)\b)",
    re.I,
)
MORE = re.compile(r"\b(?:more|most|higher|highest|greater|greatest|larger|largest|heavier|"
                  r"heaviest|bigger|biggest|longer|older)\b", re.I)  # fmt: skip
LESS = re.compile(r"\b(?:fewer|fewest|less|least|lower|lowest|smaller|smallest|lighter|"
                  r"lightest|shorter|younger)\b", re.I)  # fmt: skip
WANTS: list[tuple[re.Pattern[str], Wants]] = [
    (re.compile(r"\b(?:when|what\s+year|which\s+year|in\s+what\s+year)\b", re.I), "year"),
    (re.compile(r"\b(?:who|whom|whose)\b", re.I), "name"),
    (re.compile(r"\bhow\s+(?:many|much)\b|\bwhat\s+number\b", re.I), "number"),
]


@dataclass(frozen=True)
class Entry:
    """A retrieved entry as the check reads it: its passage and what it states."""

    title: str
    text: str
    facts: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.title, *self.aliases)

    def value(self, label: str) -> str | None:
        return next((v for k, v in self.facts.items() if k.lower() == label), None)


@dataclass(frozen=True)
class Asked:
    """The reading of one question. Entries are indices into the sources, best first."""

    kind: Kind
    targets: list[int]  # the entries whose passage must hold the answer
    label: str | None = None  # the learned field asked about, lower case
    wants: Wants = "any"
    terms: frozenset[str] = frozenset()  # what it asks about, beyond names and the label
    direction: int = 0  # comparison: +1 the larger value wins, -1 the smaller
    unknown_value: bool = False  # it gives a value that no retrieved entry holds

    @property
    def answerable(self) -> bool:
        return bool(self.targets) and not self.unknown_value


def named(question: str, sources: Sequence[Entry]) -> list[int]:
    """Sources the question names by title or other name, as whole words; a name inside a
    longer named one does not count ("object" in "object-oriented programming"); latest
    named first (an English question names its subject after what it asks: "which element
    ... carbon")."""
    found: list[tuple[int, int, int]] = []  # (start, end, source)
    for index, source in enumerate(sources):
        for name in source.names:
            if len(name) < 3 and not name.isupper():
                continue
            match = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", question, re.I)
            if match and name.lower() not in COMMON:
                found.append((match.start(), match.end(), index))
                break
    kept = [f for f in found if not any(o != f and _inside(f, o) for o in found)]
    kept.sort(key=lambda f: -f[0])
    return list(dict.fromkeys(index for _, _, index in kept))


def _inside(inner: tuple[int, int, int], outer: tuple[int, int, int]) -> bool:
    return (
        outer[0] <= inner[0] and inner[1] <= outer[1] and outer[1] - outer[0] > inner[1] - inner[0]
    )


def asked_labels(
    question: str, sources: Sequence[Entry], meaning: LabelMeaning | None = None
) -> list[str]:
    """Learned labels the question asks for: those whose every word it uses, longest first;
    else, when some of a label's words are used or none is, the label whose embedding the
    question's is clearly nearest ("how many protons" means the atomic number field)."""
    labels = sorted({k.lower() for s in sources for k in s.facts})
    text = question.lower()
    whole = [lab for lab in labels if all(_has_word(text, w) for w in lab.split())]
    if whole:
        return sorted(whole, key=len, reverse=True)
    if meaning is None:
        return []
    partial = [lab for lab in labels if any(_has_word(text, w) for w in lab.split())]
    # Some of its words used already narrow it: the embedding only has to break the tie.
    nearest = meaning.nearest(partial, MEANT_BY / 4) if partial else meaning.nearest(labels)
    return [nearest] if nearest is not None else []


@dataclass(frozen=True)
class LabelMeaning:
    """The question's embedding and its labels' (same embedder), for labels not used word
    for word."""

    question: Vector
    labels: dict[str, Vector]

    def nearest(self, candidates: Sequence[str], margin: float = MEANT_BY) -> str | None:
        scored = sorted(
            ((float(self.labels[c] @ self.question), c) for c in candidates if c in self.labels),
            reverse=True,
        )
        if not scored or scored[0][0] < MEANT_AT:
            return None
        if len(scored) > 1 and scored[0][0] - scored[1][0] < margin:
            return None
        return scored[0][1]


def _has_word(text: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}\b", text) is not None


def given_values(question: str, label: str | None) -> list[str]:
    """Values the question gives: numbers, and the word right after the label it names when
    it is written as a code is ("symbol F", "symbol is Fe"; not "symbol stands for")."""
    values = numbers_in(question)
    if label is not None:
        after = re.search(rf"\b{re.escape(label)}\b(?:\s+(?:is|=))?\s+([\w.+-]+)", question, re.I)
        word = after.group(1).rstrip(".") if after else ""
        if word and word.lower() not in COMMON and not word.islower():
            values.append(word)
    return list(dict.fromkeys(values))


def holders(value: str, label: str | None, sources: Sequence[Entry]) -> list[int]:
    """Sources whose field (the label's, or any) holds `value` as written."""
    found = []
    for index, source in enumerate(sources):
        pairs = source.facts.items() if label is None else [(label, source.value(label))]
        for _, held in pairs:
            if held is not None and _same_value(value, held):
                found.append(index)
                break
    return found


def _same_value(given: str, held: str) -> bool:
    if given.replace(".", "", 1).isdigit() and held.replace(".", "", 1).isdigit():
        return float(given) == float(held)
    return given == held if len(held) <= 2 else given.lower() == held.lower()


def wants_of(question: str) -> Wants:
    return next((wants for pattern, wants in WANTS if pattern.search(question)), "any")


def read(question: str, sources: Sequence[Entry], meaning: LabelMeaning | None = None) -> Asked:
    if REVERSE.search(question):
        return _reverse(sources, frozenset(key_terms(REVERSE.sub(" ", question))))
    names = named(question, sources)
    # A word the entry's own text uses ("which group is X in?") is asked as it is written;
    # only a question in other words than the entry's and its labels' ("atomic mass", "how
    # many protons") is read by its embedding.
    label_words = key_terms(" ".join(k for s in sources for k in s.facts))
    unlabelled = frozenset(_asked_terms(question, sources, names, None)) - label_words
    said = bool(names) and bool(unlabelled & key_terms(sources[names[0]].text))
    labels = asked_labels(question, sources, None if said else meaning)
    label = labels[0] if labels else None
    terms = frozenset(_asked_terms(question, sources, names, label))
    by_value = _by_value(question, label, sources)
    if by_value is not None:
        return by_value
    if len(names) >= 2 and (MORE.search(question) or LESS.search(question)):
        return _comparison(question, names, label, sources, terms)
    wants = wants_of(question)
    with_label = [i for i in names if label is not None and sources[i].value(label) is not None]
    if with_label:
        return Asked("field", with_label[:1], label, wants, terms)
    if DEFINITION.search(question) and not terms - DEFINITION_WORDS:
        return Asked("definition", names[:1])
    # "Which group is X in?": a detail of X's, wanted in the sentence of X's that says it.
    if label is not None or wants != "any" or (names and ASKS_ENTRY.search(question)):
        return Asked("detail", names[:1], label, wants, terms)
    return Asked("open", names[:1], terms=terms)


def _by_value(question: str, label: str | None, sources: Sequence[Entry]) -> Asked | None:
    """ "Which element has atomic number 40?": the answer is the entry holding the value."""
    entry_asked = ASKS_ENTRY.search(question)
    if entry_asked is None or (label is not None and entry_asked.group(1).lower() in label):
        return None  # "Which symbol stands for copper?" asks for the field, not an entry
    values = given_values(question, label)
    found = [i for v in values for i in holders(v, label, sources)]
    if found:
        return Asked("entry", list(dict.fromkeys(found)), label, "entry")
    if label is not None and values:
        return Asked("entry", [], label, "entry", unknown_value=True)
    return None


def _comparison(
    question: str,
    names: list[int],
    label: str | None,
    sources: Sequence[Entry],
    terms: frozenset[str],
) -> Asked:
    pair = sorted(names[:2])
    direction = 1 if MORE.search(question) else -1
    if label is not None and any(sources[i].value(label) is None for i in pair):
        label = None  # compared by a field only one of them states: nothing to compare
    return Asked("comparison", pair, label, "entry", terms, direction)


def _reverse(sources: Sequence[Entry], terms: frozenset[str]) -> Asked:
    """ "Which word means a game in which ...?": the entry whose definition the question gives."""
    best, best_share = None, 0.0
    for index, source in enumerate(sources):
        defined = key_terms(defining_unit(source.text))
        share = len(terms & defined) / len(terms) if terms else 0.0
        if share > best_share:
            best, best_share = index, share
    targets = [best] if best is not None and best_share >= 0.6 else []
    return Asked("entry", targets, None, "entry", terms)


def _asked_terms(
    question: str, sources: Sequence[Entry], names: list[int], label: str | None
) -> set[str]:
    drop = key_terms(" ".join(n for i in names for n in sources[i].names))
    drop |= key_terms(label or "")
    return key_terms(question) - drop - DEFINITION_WORDS
