"""The forms of question in the answer sets: each a kind of question with several phrasings a
student uses, and whether it is held out of the answer check's development and of fine-tune
training (data/eval/answer_forms.md)."""

from __future__ import annotations

from dataclasses import dataclass

from evaluation.answers import AnswerType


@dataclass(frozen=True)
class Form:
    name: str
    answer_type: AnswerType
    phrasings: tuple[str, ...]
    held_out: bool = False  # kept out of the check's development and of fine-tune training


def held_out(name: str, answer_type: AnswerType, phrasings: tuple[str, ...]) -> Form:
    return Form(name, answer_type, phrasings, held_out=True)


FORMS = {
    f.name: f
    for f in (
        # The forms the answer check was developed on (and fine-tuning trains on).
        Form(
            "atomic number of X",
            "number",
            (
                "What is the atomic number of {t}?",
                "How many protons does an atom of {t} have?",
                "what's {t}'s atomic number",
            ),
        ),
        Form(
            "symbol of X",
            "symbol",
            (
                "What is the chemical symbol for {t}?",
                "Which symbol stands for {t} on the periodic table?",
                "symbol of {t}?",
            ),
        ),
        Form(
            "atomic weight of X",
            "number",
            ("What is the atomic weight of {t}?", "What is the atomic mass of {t}?"),
        ),
        Form("discoverer of X", "name", ("Who discovered {t}?", "Who first isolated {t}?")),
        Form(
            "definition of X", "definition", ("What is {t}?", "Define {t}.", "What does {t} mean?")
        ),
        # New forms the check may be developed on.
        Form(
            "element by symbol",
            "entry",
            ("Which element has the chemical symbol {s}?", "Which element's symbol is {s}?"),
        ),
        Form(
            "group of X",
            "number",
            (
                "Which group of the periodic table is {t} in?",
                "What group is {t} in on the periodic table?",
            ),
        ),
        Form(
            "word for a definition",
            "entry",
            ("Which word means: {sense}?", "What is the term for {sense}?"),
        ),
        # Held out: measured only, so their figures say how the check does on forms it was
        # not shaped by.
        held_out(
            "element by atomic number",
            "entry",
            ("Which chemical element has atomic number {n}?", "Name the element with {n} protons."),
        ),
        held_out(
            "year X was discovered",
            "number",
            (
                "In what year was {t} discovered?",
                "When was {t} first isolated?",
                "What year was {t} discovered?",
            ),
        ),
        held_out(
            "comparison of two elements",
            "entry",
            (
                "Which has more protons, {a} or {b}?",
                "Which has the higher atomic number: {a} or {b}?",
                "Which is heavier, {a} or {b}?",
            ),
        ),
        held_out(
            "acronym expansion", "text", ("What does {t} stand for?", "What is {t} short for?")
        ),
        held_out(
            "synonym of X", "text", ("What is another word for {t}?", "Give a synonym of {t}.")
        ),
    )
}
# Unanswerable questions: made-up things, one set a split, checked absent from the corpora.
INVENTED = {
    "dev": {
        "element": "vibranium",
        "other element": "adamantium",
        "symbol": "Xq",
        "atomic number": "140",
        "term": "flurbination",
        "acronym": "QXZV",
        "word": "glorptious",
    },
    "test": {
        "element": "quellium",
        "other element": "dravonium",
        "symbol": "Yj",
        "atomic number": "150",
        "term": "snarfulation",
        "acronym": "ZPQW",
        "word": "wuzzlesome",
    },
}
# Per form: what it asks for, and which made-up thing fills each of its phrasings' slots.
UNANSWERABLE: tuple[tuple[str, AnswerType, dict[str, str]], ...] = (
    ("atomic number of X", "number", {"t": "element"}),
    ("symbol of X", "symbol", {"t": "other element"}),
    ("atomic weight of X", "number", {"t": "other element"}),
    ("discoverer of X", "name", {"t": "element"}),
    ("year X was discovered", "number", {"t": "other element"}),
    ("group of X", "number", {"t": "element"}),
    ("element by symbol", "entry", {"s": "symbol"}),
    ("element by atomic number", "entry", {"n": "atomic number"}),
    ("comparison of two elements", "entry", {"a": "element", "b": "other element"}),
    ("definition of X", "definition", {"t": "term"}),
    ("acronym expansion", "text", {"t": "acronym"}),
    ("synonym of X", "text", {"t": "word"}),
)
