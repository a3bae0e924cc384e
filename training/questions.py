"""What an entry can be asked, from what it states and nothing else: its learned fields
("Label: value", `retrieval.structure`) and its defining sentence, each in phrasings made from
the label and the title alone; and how `evaluation` judges an answer to each. No subject's
fields or phrasings are named here.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Literal

from pydantic import BaseModel, ConfigDict

from evaluation.answers import AnswerQuestion, AnswerType, content_stems
from grounding.text import is_field_unit, passage_units, plain
from retrieval.structure import Structure

# The structure cuts a field's prose value at four words: a value that long may be cut prose.
MAX_VALUE_WORDS = 3
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
CODE = re.compile(r"[A-Z][A-Za-z0-9]{0,2}")  # one short token with a capital: "K", "Fe", "USD"

# How a student may ask, from the label and the title alone ({Title}: capitalised).
FIELD_FORMS = (
    "What is the {label} of {title}?",
    "{Title}: what is its {label}?",
    "Tell me the {label} of {title}.",
    "What {label} does {title} have?",
)
REVERSE_FORMS = ("Which entry has {label} {value}?", "What has the {label} {value}?")
DEFINITION_FORMS = (
    "What is {title}?",
    "Define {title}.",
    "What does {title} mean?",
    "Explain {title}.",
)
# What a right answer says, cited by the passage's number among the sources.
FIELD_ANSWER = "The {label} of {title} is {value} [{n}]."
REVERSE_ANSWER = "{Title} has {label} {value} [{n}]."

# The evaluation's held-out forms are kept out of training, so that its figures on them measure
# questions the model was never taught to answer (`evaluation.forms`, held_out=True): comparisons
# of two entries, "what year" and "when", an entry asked by a number it has ("which element has
# atomic number 19"), synonyms ("another word for") and acronym expansions ("stand for"). A
# question that matches any of these is not made, whatever its label or title: the patterns err
# wide (a definition of "synonym" is not made either).
HELD_OUT_FORMS: dict[str, re.Pattern[str]] = {
    "comparison": re.compile(
        r"\b(?:more|most|fewer|fewest|less|least|higher|lower|greater|larger|smaller|heavier|"
        r"lighter|bigger|older|younger|earlier|later|than|compared?|versus|vs)\b|"
        r"\bwhich\b[^?]*\bor\b",
        re.I,
    ),
    "year": re.compile(r"\b(?:when|years?|dates?)\b", re.I),
    "entry by number": re.compile(
        r"^\s*(?:which|what|name)\b[^?]*\b(?:has|have|with)\b[^?]*?(?<![\w.])\d", re.I
    ),
    "synonym": re.compile(
        r"\b(?:synonyms?|another\s+(?:word|name|term)|other\s+(?:words?|names?|terms?)|"
        r"also\s+(?:called|known))\b",
        re.I,
    ),
    "acronym": re.compile(
        r"\b(?:stands?\s+for|acronyms?|abbreviat\w*|short\s+for|expan(?:d|ds|sion))\b", re.I
    ),
}

Kind = Literal["field", "reverse", "definition"]


class TrainingQuestion(BaseModel):
    """A question made from one entry, and what a right answer to it states."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    question: str
    kind: Kind
    subject: str
    doc_id: str
    title: str
    expected: str  # the field's value, the entry's title (reverse) or its defining sentence
    label: str | None = None  # the field asked about, lower case


def held_out_form(question: str) -> str | None:
    """The evaluation's held-out form a question has, if any."""
    return next((name for name, form in HELD_OUT_FORMS.items() if form.search(question)), None)


def asked(form: str, title: str, label: str = "", value: str = "") -> str | None:
    """The question in this form, or None when it has a held-out form's words."""
    question = form.format(title=title, Title=capital(title), label=label, value=value)
    return None if held_out_form(question) else question


def capital(title: str) -> str:
    return title[:1].upper() + title[1:]


def stated_fields(fields: dict[str, str], passage: str, seen_chars: int) -> dict[str, str]:
    """The fields a question can ask, lower-case label to value: one value (not a list) of at
    most three words, in the passage as a student reads it and within its first `seen_chars`
    (what the model is shown of it)."""
    shown, cut = plain(passage), passage[:seen_chars]
    return {
        label.lower(): value
        for label, value in fields.items()
        if "," not in value
        and ":" not in value
        and len(value.split()) <= MAX_VALUE_WORDS
        and f"{label}:" in shown
        and re.search(rf"{re.escape(label)}:\s*\(?{re.escape(value)}", cut) is not None
    }


def unique_values(structure: Structure) -> set[tuple[str, str]]:
    """(label, value) pairs that one entry alone of the subject has: askable the other way."""
    counts = Counter(
        (label.lower(), value)
        for facts in structure.entries.values()
        for label, value in facts.fields.items()
    )
    return {pair for pair, n in counts.items() if n == 1}


def defining_sentence(text: str) -> str:
    """An entry's defining sentence: past its leading "Label: value" fields, up to the first
    sentence's end or a numbered second sense, without tags, bracketed notes and asides."""
    units = passage_units(text)
    fields = next((i for i, unit in enumerate(units) if not is_field_unit(unit)), len(units))
    body = " ".join(units[fields:]) if fields else text
    body = plain(re.sub(r"\([^)]*\)", " ", body))
    first = re.split(r"\s+\d+:\s|(?<=[.;])\s", body.strip(), maxsplit=1)[0]
    return " ".join(first.split())


def judged(item: TrainingQuestion) -> AnswerQuestion:
    """The question as `evaluation` judges it, so the run's own figures are the answer sets'."""
    return AnswerQuestion(
        question=item.question,
        subject=item.subject,
        form=f"training {item.kind}",
        held_out=False,
        doc_ids=[item.doc_id],
        expected=[item.expected],
        answer_type=answer_type(item),
        key_terms=defining_stems(item.expected, item.title) if item.kind == "definition" else [],
    )


def answer_type(item: TrainingQuestion) -> AnswerType:
    """By what is expected: an entry's title, a definition, or a value by its shape."""
    if item.kind != "field":
        return "entry" if item.kind == "reverse" else "definition"
    value = item.expected
    if NUMBER.fullmatch(value):
        return "number"
    if CODE.fullmatch(value):
        return "symbol"
    words = value.split()  # a name: two or more words, the first and last capitalised
    is_name = len(words) > 1 and words[0][:1].isupper() and words[-1][:1].isupper()
    return "name" if is_name else "text"


def defining_stems(sense: str, title: str) -> list[str]:
    """What a definition is judged by: at most six stemmed terms, the defined words left out."""
    own = set(content_stems(title))
    return [stem for stem in content_stems(sense) if stem not in own][:6]
