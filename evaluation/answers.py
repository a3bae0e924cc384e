"""Questions with known answers over the curriculum, and the judge of an answer to one.

The judge shares no code and no criteria with the answer check it helps measure (this package
imports nothing of `models`, `service`, `grounding`, `retrieval` or `practice`), so a figure
it gives is not the check agreeing with itself. An answer is normalised first: citations such
as [1] or [1, 2] dropped, lower case, punctuation as spaces. Then, by `answer_type`:

- number: a number of the answer equals the expected one at the answer's precision or at the
  expected's (39.1, 39 or 39.10 for 39.0983; 227.03 for 227), so a year must be exact;
- symbol: the symbol as written, case kept, not inside a longer one (K, not KR or Kr); a
  symbol that is also an English word (In, As, He, I ...) does not count opening a sentence;
- name: a person's surname, the last word of an expected name, as a name is written ("Davy"
  for Sir Humphry Davy; "I hope" does not name Hope); accents aside (Wöhler is Wohler);
- text: the expected phrase as whole words, or with `share_of_words` set (an acronym's
  expansion) at least that share of the phrase's content words, stemmed;
- definition: at least half of `key_terms` (stemmed content words of the first sense);
- entry: an expected title as whole words; with `rivals` (a comparison's other element), the
  answer must also name the expected title before any rival, once an echo of the question's
  pair ("sodium or magnesium") is dropped;
- none (unanswerable): `declines_rightly` below: the answer says it cannot tell and invents no
  value of the kind asked (`asks`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AnswerType = Literal["number", "symbol", "text", "name", "definition", "entry", "none"]

CITATION = re.compile(r"\[\s*\d+(?:\s*[,;-]\s*\d+)*\s*\]")
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?!\w)")
WORD = re.compile(r"[^\W_]+")
VOWEL = re.compile(r"[aeiouy]")
# What precedes a sentence's first word: a full stop, a line's start, a list bullet, a quote.
OPENING = re.compile(r"(?:^|[.!?:;]\s+|\n)\s*(?:[-*\u2022]\s+)?[\"'(*\u201c]*$")
# Symbols that are also English words: as a sentence's first word they are the word.
WORDLIKE_SYMBOLS = frozenset({"I", "In", "As", "At", "Be", "He", "No"})
PRONOUN_I = re.compile(r"\bI(?='m\b|\s+(?:[a-z]|can't|don't)\w*)")
STOPWORDS = frozenset(
    WORD.findall(
        "a an the and or of to in on at by for from with without into onto as is are was were be "
        "been being it its this that these those which who whom whose what when where how than "
        "then so such not no any some each every all one can may might must will would should "
        "could has have had do does did used use uses using usually often especially generally "
        "something someone thing things kind sort type way ways other another more most less very "
        "also only just about over under between among their there they them he she his her "
        "because since while whether if although"
    )
)


class AnswerQuestion(BaseModel):
    """One labelled question and everything its judge needs."""

    model_config = ConfigDict(extra="forbid")

    question: str
    subject: str = Field(description="chemistry, computing or english; `none`: unanswerable")
    form: str = Field(description='The kind of question, e.g. "atomic number of X".')
    held_out: bool = Field(
        description="The form is kept out of the answer check's development and of fine-tune "
        "training: a figure on it says how the check does on questions it was not shaped by."
    )
    doc_ids: list[str] = Field(default_factory=list, description="Its documents; [] if none.")
    expected: list[str] = Field(
        default_factory=list, description="Acceptable answers; any one suffices."
    )
    answer_type: AnswerType
    key_terms: list[str] = Field(
        default_factory=list, description="definition: stemmed terms, half of which suffice."
    )
    rivals: list[str] = Field(
        default_factory=list,
        description="entry: names that must not come first (a comparison's other element).",
    )
    share_of_words: float | None = Field(
        default=None,
        description="text: the share of an expected phrase's content words an answer must "
        "hold; None: the whole phrase.",
    )
    asks: AnswerType | None = Field(
        default=None, description="none: the kind of value the question asks for."
    )


def read_questions(path: Path) -> list[AnswerQuestion]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [AnswerQuestion.model_validate_json(line) for line in lines if line.strip()]


def normalised(text: str) -> str:
    return " ".join(WORD.findall(folded(CITATION.sub(" ", text)).lower()))


def folded(text: str) -> str:
    """Without accents: Wöhler and Wohler are one name."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def has_phrase(text: str, phrase: str) -> bool:
    """The phrase as whole words of the text (both normalised)."""
    wanted = normalised(phrase)
    return bool(wanted) and f" {wanted} " in f" {normalised(text)} "


def stem(word: str) -> str:
    """A small suffix stripper: processes, processing, processed and process all give
    `process`; typed and type give `typ`; beginning and begin give `begin`."""
    if len(word) <= 3:
        return word
    if word.endswith(("ies", "ied")) and len(word) > 4:
        return word[:-3] + "y"
    for suffix in ("ing", "ed", "ly"):
        base = word[: -len(suffix)]
        # not string (no vowel before -ing) nor proceed (-eed)
        if word.endswith(suffix) and len(base) >= 3 and VOWEL.search(base) and base[-1] != "e":
            word = base
            doubled = word[-1] == word[-2] and word[-1] not in "lsz" and len(word) > 4
            return word[:-1] if doubled else word
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def content_stems(text: str) -> list[str]:
    """The stems of a text's content words, in order, each once."""
    stems: dict[str, None] = {}
    for word in WORD.findall(CITATION.sub(" ", text).lower()):
        if word not in STOPWORDS and (len(word) > 2 or word.isdigit()):
            stems.setdefault(stem(word), None)
    return list(stems)


def numbers_in(text: str) -> list[str]:
    return NUMBER.findall(CITATION.sub(" ", text))


def same_number(said: str, expected: str) -> bool:
    """Equal at the precision of either: 39.1 and 39 for 39.0983, 227.03 for 227."""
    a, e = Decimal(said), Decimal(expected)
    return a == e or rounded(e, decimals(said)) == a or rounded(a, decimals(expected)) == e


def decimals(value: str) -> int:
    return len(value.partition(".")[2])


def rounded(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def has_symbol(answer: str, symbol: str) -> bool:
    text = PRONOUN_I.sub(" ", CITATION.sub(" ", answer))
    for found in re.finditer(rf"(?<![A-Za-z]){re.escape(symbol)}(?![A-Za-z])", text):
        if symbol not in WORDLIKE_SYMBOLS or not OPENING.search(text[: found.start()]):
            return True
    return False


def has_surname(answer: str, name: str) -> bool:
    """The last word of the name, capitalised as a name is ("I hope" does not name Hope)."""
    words = WORD.findall(folded(name))
    pattern = rf"(?<![\w-]){re.escape(words[-1])}(?![\w-])" if words else None
    return pattern is not None and re.search(pattern, folded(answer)) is not None


def holds_share(answer: str, phrase: str, share: float) -> bool:
    wanted = content_stems(phrase)
    found = set(content_stems(answer))
    return bool(wanted) and sum(w in found for w in wanted) >= share * len(wanted)


def names_first(answer: str, expected: Iterable[str], rivals: Iterable[str]) -> bool:
    """An expected title named, and before any rival once the question's pair is dropped:
    "Magnesium has more" and "Between sodium and magnesium, magnesium" name magnesium first;
    "Sodium has fewer protons than magnesium" does not (judged wrong: the rule is strict)."""
    mine, theirs = [normalised(e) for e in expected], [normalised(r) for r in rivals]
    text = without_pairs(f" {normalised(answer)} ", mine, theirs)
    return first_at(text, mine) < first_at(text, theirs)


def without_pairs(text: str, mine: list[str], theirs: list[str]) -> str:
    for a in mine:
        for b in theirs:
            for x, y in ((a, b), (b, a)):
                for joint in ("or", "and", "vs", "versus"):
                    text = text.replace(f" {x} {joint} {y} ", " ")
    return text


def first_at(text: str, names: Iterable[str]) -> float:
    found = [text.find(f" {n} ") for n in names if n and f" {n} " in text]
    return min(found, default=float("inf"))


# Unanswerable questions: what counts as saying "I cannot tell".
DECLINES = re.compile(
    r"\b(?:not|no|none|nothing|neither|cannot|unknown|unable|unsure|fictional|fictitious|"
    r"imaginary|invented|made[- ]up)\b|n['\u2019]t\b",
    re.I,
)
NAME_LIKE = re.compile(r"(?<![\w'\u2019-])[A-Z][\w'\u2019-]*")
NOT_NAMES = frozenset({"i", "chemistry", "computing", "english", "wordnet", "foldoc"})


def declines_rightly(answer: str, item: AnswerQuestion) -> bool:
    """Right for an unanswerable question: an empty answer, or one that says it cannot tell
    (not, no, none, cannot, unknown, n't, fictional ...) and invents no value of the kind
    asked: for a number, no number the question does not hold; for a name, symbol, entry or
    text, no capitalised word past a sentence's first word that the question does not hold
    (a symbol-like Xe, a name like Stark). A name opening a sentence is not caught, but an
    answer made of one seldom also declines."""
    text = CITATION.sub(" ", answer)
    if not text.strip():
        return True
    if not DECLINES.search(text):
        return False
    if item.asks == "number":
        return set(numbers_in(text)) <= set(numbers_in(item.question))
    if item.asks in ("entry", "name", "symbol", "text"):
        return not invented_names(text, set(normalised(item.question).split()))
    return True


def invented_names(text: str, asked: set[str]) -> list[str]:
    names = []
    for found in NAME_LIKE.finditer(text):
        first = WORD.findall(found.group(0).lower())[0]
        if first in asked or first in NOT_NAMES or OPENING.search(text[: found.start()]):
            continue
        names.append(found.group(0))
    return names


def is_right(answer: str, item: AnswerQuestion) -> bool:
    """Whether `answer` answers `item` (the rules are in this module's docstring)."""
    expected = item.expected
    match item.answer_type:
        case "number":
            return any(same_number(n, e) for n in numbers_in(answer) for e in expected)
        case "symbol":
            return any(has_symbol(answer, e) for e in expected)
        case "name":
            return any(has_surname(answer, e) for e in expected)
        case "text" if item.share_of_words is not None:
            return any(holds_share(answer, e, item.share_of_words) for e in expected)
        case "text":
            return any(has_phrase(answer, e) for e in expected)
        case "definition":
            found = set(content_stems(answer))
            held = sum(term in found for term in item.key_terms)
            return bool(item.key_terms) and 2 * held >= len(item.key_terms)
        case "entry":
            return names_first(answer, expected, item.rivals)
        case "none":
            return declines_rightly(answer, item)
