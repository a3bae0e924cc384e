"""The response optimizer: an answer is checked against the passages it was given before the
student relies on it, and repaired when it says what they do not.

Deterministic and model-free (regular expressions and word sets; well under a millisecond an
answer, measured in benchmarks/grounding.py). A claim is checkable content in the answer:
- a number (with or without a unit; a date is a number): supported when a passage holds a
  number that equals it at the answer's precision (39.1 for 39.0983) or the question holds it;
- a chemical symbol as an answer writes it ("symbol is LU-7", "(Ar)"): supported when a
  passage gives exactly that symbol;
- a name (capitalised words inside a sentence, "H.C. Oersted"): supported when each of its
  words is in a passage or the question.
A question that asks for a field a passage states ("atomic number", "symbol", "atomic weight",
"discovered") must be answered with that field's value: "the atomic number of potassium is 39"
holds a number the passage has (its weight), and is still wrong.
An answer with no checkable claim is judged by the share of its key terms found in the passages.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from models.prompts import SourceText
from retrieval.chunking import LEAD_JOINER

Verdict = Literal["supported", "repaired", "unsupported"]

CITATION = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")
NUMBER = re.compile(r"(?<![\w.])\d+(?:,\d{3})*(?:\.\d+)?(?![\w])")
SYMBOL_CLAIM = re.compile(
    r"\bsymbol\b(?:\s+(?:is|of|for|=|:)(?:\s+[a-z]+)*?)?\s*[\"'“(]?([A-Za-z]{1,3}(?:-\d+)?)\b",
)
PAREN_SYMBOL = re.compile(r"\(([A-Z][a-z]?)\)")
PASSAGE_SYMBOL = re.compile(r"Symbol:\s*([A-Z][a-z]{0,2})\b")
NAME = re.compile(r"(?<=[a-z,;]\s)((?:[A-Z][a-z]*\.)*[A-Z][a-z]+(?:\s+(?:[A-Z]\.)*[A-Z][a-z]+)*)")
WORD = re.compile(r"[a-z][a-z-]+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")
# "What is X?", "What does X mean?", "Define X.": asked of a dictionary entry, its first
# sentence is the answer, whatever later sentences share more words with the question.
DEFINITION_QUESTION = re.compile(
    r"^\s*(?:what\s+(?:is|are)\b|what's\b|what\s+does\b.*\bmean\b|define\b)", re.I
)
# Fields a curriculum passage states, the question words that ask for each, and its value.
FIELDS: dict[str, tuple[re.Pattern[str], re.Pattern[str]]] = {
    "symbol": (re.compile(r"\bsymbol\b", re.I), re.compile(r"Symbol:\s*([A-Z][a-z]{0,2})\b")),
    "atomic number": (
        re.compile(r"\batomic\s+number\b|\bprotons\b", re.I),
        re.compile(r"Atomic number:\s*(\d+)"),
    ),
    "atomic weight": (
        re.compile(r"\batomic\s+(?:weight|mass)\b|\bmolar mass\b", re.I),
        re.compile(r"Atomic weight:\s*\(?(\d+(?:\.\d+)?)"),
    ),
    "discoverer": (
        re.compile(r"\bdiscover|\bisolated\b|\bfound\b", re.I),
        re.compile(
            r"(?:Discovered|Isolated|First isolated|Identified)\b[^.]*?\bby\s+"
            r"((?:[A-Z]\.\s*)*[A-Z][a-z]+"
            r"(?:\s+(?:and\s+|(?:de|da|di|du|del|della|van|von|der|le|la)\s+)*"
            r"(?:[A-Z]\.\s*)*[A-Z][a-z]+)*)"
        ),
    ),
}
STOPWORDS = frozenset(
    WORD.findall(
        "about above after again also among answer because been before being below between both "
        "called cannot could does doing down during each either every from further have having "
        "here into itself just known mean means more most much must only other over same should "
        "since some such than that their them then there these they this those through under "
        "until used uses using very what when where which while whom whose will with within "
        "without would your source sources passage student tutor question"
    )
)


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
        description="For an answer with no checkable claim: the share of its "
        "key terms the passages must hold.",
    )
    regenerate: bool = Field(
        True, description="Repair first by asking again with the passage sentence quoted."
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
    """What the answer may rest on: the passages given to the model, and the question."""

    question: str
    sources: Sequence[SourceText]

    @property
    def text(self) -> str:
        return "\n".join(f"{s.title}. {s.text}" for s in self.sources)


def numbers_in(text: str) -> list[str]:
    return [m.group(0).replace(",", "") for m in NUMBER.finditer(text)]


def same_number(claim: str, held: str) -> bool:
    """Equal at the claim's precision: 39.1 and 39 both match 39.0983; 3 does not match 19."""
    decimals = len(claim.split(".")[1]) if "." in claim else 0
    return round(float(held), decimals) == float(claim) or claim == held


def key_terms(text: str) -> set[str]:
    return {w[:6] for w in WORD.findall(text.lower()) if len(w) > 3 and w not in STOPWORDS}


def defining_terms(definition: str, title: str) -> list[str]:
    """What a definition is judged by: its key terms, at most six, the defined words left out.
    The check asks an answer for them, and `tutor eval answers` judges by the same ones."""
    return sorted(key_terms(definition) - key_terms(title))[:6]


def holds_half(text: str, terms: Sequence[str]) -> bool:
    found = key_terms(text)
    return sum(term in found for term in terms) * 2 >= len(terms)


def named_sources(evidence: Evidence) -> list[bool]:
    """For each source, whether the question names its entry: the title as whole words, and
    the longest such title only ("object-oriented programming" names that entry, not *object*)."""
    question = evidence.question.lower()
    lengths = [
        len(s.title)
        if re.search(rf"(?<![\w-]){re.escape(s.title.lower())}(?![\w-])", question)
        else 0
        for s in evidence.sources
    ]
    longest = max(lengths, default=0)
    return [longest > 0 and length == longest for length in lengths]


def named_entries(evidence: Evidence) -> list[SourceText]:
    return [s for s, named in zip(evidence.sources, named_sources(evidence), strict=True) if named]


def field_values(evidence: Evidence) -> dict[str, str]:
    """The fields the question asks for, as the first passage that states each gives them.
    When the question names a passage's title, only such passages count: "symbol of
    roentgenium?" is not answered by joliotium's "Symbol: Jl" because the roentgenium passage
    retrieved was a later part of its entry, without the header."""
    ordered = named_entries(evidence) or list(evidence.sources)
    values: dict[str, str] = {}
    for name, (asks, states) in FIELDS.items():
        if not asks.search(evidence.question):
            continue
        for source in ordered:
            found = states.search(source.text)
            if found:
                values[name] = found.group(1).strip()
                break
    return values


def unsupported_claims(answer: str, evidence: Evidence) -> tuple[int, list[str]]:
    """(how many checkable claims the answer makes, those the evidence does not hold)."""
    text = CITATION.sub(" ", answer)
    held = evidence.text
    held_numbers = numbers_in(held) + numbers_in(evidence.question)
    claims, missing = 0, []
    for number in numbers_in(text):
        claims += 1
        if not any(same_number(number, h) for h in held_numbers):
            missing.append(number)
    symbols = set(PASSAGE_SYMBOL.findall(held))
    for found in [*SYMBOL_CLAIM.finditer(text), *PAREN_SYMBOL.finditer(text)]:
        symbol = found.group(1)
        if symbol.lower() in ("is", "of", "for", "the", "a", "an"):
            continue
        claims += 1
        if symbol not in symbols:
            missing.append(symbol)
    lowered = (held + " " + evidence.question).lower()
    for name in NAME.findall(text):
        claims += 1
        if not all(part.lower() in lowered for part in re.findall(r"[A-Za-z]+", name)):
            missing.append(name)
    return claims, missing


def unanswered_fields(answer: str, evidence: Evidence) -> list[str]:
    """Fields the question asks for whose value the answer does not give."""
    text = CITATION.sub(" ", answer)
    missing = []
    for name, value in field_values(evidence).items():
        if name in ("atomic number", "atomic weight"):
            ok = any(same_number(n, value) for n in numbers_in(text))
        elif name == "symbol":
            ok = re.search(rf"(?<![A-Za-z]){re.escape(value)}(?![A-Za-z-])", text) is not None
        else:
            surname = value.split()[-1].lower()
            ok = surname in text.lower()
        if not ok:
            missing.append(f"{name}: {value}")
    return missing


def is_definition_question(question: str) -> bool:
    return DEFINITION_QUESTION.search(question) is not None and not any(
        asks.search(question) for asks, _ in FIELDS.values()
    )


def missing_definition(answer: str, evidence: Evidence) -> list[str]:
    """For "what is X?" when a passage of X's entry was retrieved: the answer must hold at
    least half of the defining terms of the entry's opening sentence (at most six, X's own
    words left out). "Grammar is the language of language" shares terms with the passages and
    says nothing of what the entry says grammar is."""
    if not is_definition_question(evidence.question):
        return []
    named = named_entries(evidence)
    if not named:
        return []
    units = passage_units(named[0].text)
    if not units:
        return []
    defining = defining_terms(units[0], named[0].title)
    if len(defining) < 2:
        return []  # too short a definition to judge by its terms
    if holds_half(CITATION.sub(" ", answer), defining):
        return []
    return [f"definition: {units[0][:120]}"]


def check(answer: str, evidence: Evidence, config: GroundingConfig) -> Grounding:
    claims, missing = unsupported_claims(answer, evidence)
    unanswered = unanswered_fields(answer, evidence) + missing_definition(answer, evidence)
    missing = list(dict.fromkeys(missing + unanswered))  # "is Rg" is a symbol and a name
    if claims == 0 and not missing:
        terms = key_terms(CITATION.sub(" ", answer))
        held = key_terms(evidence.text + " " + evidence.question)
        score = len(terms & held) / len(terms) if terms else 0.0
        supported = score >= config.min_term_overlap
        unsupported = [] if supported else sorted(terms - held)[:8]
        return Grounding("supported" if supported else "unsupported", round(score, 3), unsupported)
    checked = claims + len(unanswered)
    score = 1.0 - len(missing) / max(checked, len(missing), 1)
    return Grounding("unsupported" if missing else "supported", round(score, 3), missing)


def plain(text: str) -> str:
    """A dictionary entry as a student reads it: without FOLDOC's <tags>, WordNet's [syn: ...]
    and pronunciations (/bi:t/), and without the lower-case other names a FOLDOC entry opens
    with ("deadly embrace A situation where ..." starts at "A")."""
    text = " ".join(re.sub(r"<[^>]+>|\[[^\]]*\]|/[^/\s]+/", " ", text).split())
    text = re.sub(r"^(?:n|v|adj|adv)\s+(?:1:\s*)?", "", text)
    other_names = re.match(r"[a-z0-9][a-z0-9 ,'-]{0,80}?\s(?=[A-Z])", text)
    return text[other_names.end() :] if other_names else text


def passage_units(text: str) -> list[str]:
    """A passage's sentences, with a dictionary entry's header fields ("Symbol: K Atomic
    number: 19 ...") each a unit of its own."""
    units: list[str] = []
    sentences = [
        sentence
        for part in plain(text).split(LEAD_JOINER.strip())
        for sentence in SENTENCE_END.split(part.strip())
    ]
    for sentence in sentences:
        header = re.split(r"\s+(?=(?:Symbol|Atomic number|Atomic weight):)", sentence)
        units.extend(u.strip() for u in header if u.strip())
    return units


def best_unit(evidence: Evidence) -> tuple[int, str] | None:
    """(source number, the passage unit that best answers the question): the field the
    question asks for if a passage states it, else the unit sharing most of its key terms."""
    asked = key_terms(evidence.question)
    defines = is_definition_question(evidence.question)
    best: tuple[float, int, str] | None = None
    names = named_sources(evidence)
    for number, (source, named) in enumerate(zip(evidence.sources, names, strict=True), start=1):
        for position, unit in enumerate(passage_units(source.text)):
            # Another element's field is not an answer about the element the question names.
            field_hit = (named or not any(names)) and any(
                asks.search(evidence.question) and states.search(unit)
                for asks, states in FIELDS.values()
            )
            overlap = len(asked & key_terms(unit)) / (len(asked) or 1)
            # A dictionary entry defines first: its opening sentence answers "what is X", and
            # for a definition question of the entry the question names, it is the answer.
            opening = (position == 0) * (0.5 + 1.5 * (defines and named))
            score = 2 * field_hit + 1.5 * named + overlap + opening
            score -= 0.01 * number  # ties go to the higher-ranked source
            if best is None or score > best[0]:
                best = (score, number, unit)
    return None if best is None else (best[1], best[2])


def extractive_answer(evidence: Evidence) -> str | None:
    """An answer made of the passage itself, cited: right by construction."""
    fields = field_values(evidence)
    unit = best_unit(evidence)
    if unit is None:
        return None
    number, sentence = unit
    title = evidence.sources[number - 1].title
    for name, value in fields.items():
        if value in sentence or name == "discoverer":
            return f"The {name} of {title} is {value} [{number}]."
    return f"{title}: {sentence} [{number}]"


def strict_prompt(evidence: Evidence) -> str | None:
    """The instruction for a second try: the passage sentence to answer from, quoted."""
    unit = best_unit(evidence)
    if unit is None:
        return None
    number, sentence = unit
    title = evidence.sources[number - 1].title
    return (
        "Answer the student's question in one short sentence, using only this passage, and "
        f"cite it as [{number}]. Copy numbers, symbols and names exactly.\n[{number}] {title}: "
        f'"{sentence}"'
    )
