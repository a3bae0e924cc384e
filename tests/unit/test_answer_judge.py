"""The judge of `tutor eval answers`: right answers pass, and wrong ones a lax judge would pass
(a true fact about something else, the question's pair echoed, an invented value) do not."""

from __future__ import annotations

from typing import Any

import pytest

from evaluation.answers import AnswerQuestion, AnswerType, content_stems, is_right


def item(answer_type: AnswerType, expected: list[str], **extra: Any) -> AnswerQuestion:
    return AnswerQuestion(
        question=extra.pop("question", "a question?"),
        subject=extra.pop("subject", "chemistry"),
        form="a form",
        held_out=False,
        expected=expected,
        answer_type=answer_type,
        **extra,
    )


WEIGHT = item("number", ["39.0983"])  # potassium
YEAR = item("number", ["1899"])


@pytest.mark.parametrize(
    ("answer", "question", "right"),
    [
        ("The atomic weight of potassium is 39.0983 [1].", WEIGHT, True),
        ("About 39.1 [1, 2].", WEIGHT, True),  # at the answer's precision
        ("Potassium weighs in at roughly 39 u.", WEIGHT, True),
        ("Its atomic weight is 39.10.", WEIGHT, True),
        ("Potassium's atomic number is 19 [1].", WEIGHT, False),  # true, of another field
        ("The atomic weight of sodium is 22.99.", WEIGHT, False),  # true, of another element
        ("It is 41.", WEIGHT, False),
        ("It is [39].", WEIGHT, False),  # a citation is not a number
        ("Actinium was discovered by A. Debierne in 1899.", YEAR, True),
        ("Around 1900.", YEAR, False),  # a year is exact
        ("Its mass number is 227.03.", item("number", ["227"]), True),  # at the expected's
    ],
)
def test_numbers_are_right_at_either_precision(
    answer: str, question: AnswerQuestion, right: bool
) -> None:
    assert is_right(answer, question) is right


@pytest.mark.parametrize(
    ("answer", "symbol", "right"),
    [
        ("The chemical symbol for potassium is K [1].", "K", True),
        ("Potassium (K) is an alkali metal.", "K", True),
        ("Its symbol is Kr.", "K", False),  # krypton's
        ("Its symbol is KR.", "K", False),
        ("its symbol is k", "K", False),  # a symbol's case is part of it
        ("The symbol of indium is In [1].", "In", True),
        ("In 1863 Reich and Richter found indium.", "In", False),  # the word, not the symbol
        ("The symbol for iodine is I.", "I", True),
        ("I think the symbol is Io.", "I", False),
    ],
)
def test_symbols_are_matched_as_written(answer: str, symbol: str, right: bool) -> None:
    assert is_right(answer, item("symbol", [symbol])) is right


def test_a_discoverer_is_right_by_surname_and_wrong_for_another_elements() -> None:
    potassium = item("name", ["Sir Humphry Davy"])
    assert is_right("Potassium was discovered by Sir Humphry Davy in 1807 [1].", potassium)
    assert is_right("Humphrey Davy isolated it.", potassium)
    bromine = item("name", ["Antoine Balard"])
    assert not is_right("Humphry Davy discovered potassium in 1807.", bromine)
    platinum = item("name", ["Antonio de Ulloa"])
    assert is_right("It was found by de Ulloa in South America.", platinum)
    assert not is_right("Antonio discovered it.", platinum)  # a first name is not enough
    indium = item("name", ["Reich and Richter", "Reich", "Richter"])
    assert is_right("Ferdinand Reich found it in 1863.", indium)
    strontium = item("name", ["Klaproth and Hope", "Klaproth", "Hope"])
    assert not is_right("Humphry Davy isolated it; I hope this helps.", strontium)
    beryllium = item("name", ["F. Wohler and A.A. Bussy", "F. Wohler", "A.A. Bussy"])
    assert is_right("Friedrich Wöhler and Antoine Bussy isolated it in 1828.", beryllium)


def test_a_synonym_is_one_of_the_entrys_other_terms() -> None:
    alleviation = item("text", ["relief", "assuagement", "easing"], subject="english")
    assert is_right("Another word for alleviation is relief [1].", alleviation)
    assert is_right("Easing.", alleviation)
    assert not is_right("Its opposite is aggravation.", alleviation)
    assert not is_right("Alleviation means being relieved.", alleviation)  # not the term
    assert not is_right("It is pleasing.", alleviation)  # whole words: not "easing"


def test_an_expansion_needs_two_thirds_of_its_words() -> None:
    dactl = item(
        "text",
        ["Declarative Alvey Compiler Target Language"],
        subject="computing",
        share_of_words=2 / 3,
    )
    assert is_right("DACTL stands for Declarative Alvey Compiler Target Language [1].", dactl)
    assert is_right("The declarative Alvey compiler target language.", dactl)
    assert not is_right("DACTL stands for Digital to Analog Converter.", dactl)
    assert not is_right("A compiler target language.", dactl)  # 3 of 5 words
    ace = item(
        "text",
        ["Advanced Computing Environment", "Adaptive Communication Environment"],
        share_of_words=2 / 3,
    )
    assert is_right("ACE: Adaptive Communication Environment.", ace)


DEADLOCK_SENSE = (
    "A situation where two or more processes are unable to proceed because each is waiting "
    "for one of the others to do something"
)


def test_a_definition_needs_half_its_key_terms() -> None:
    terms = [t for t in content_stems(DEADLOCK_SENSE) if t not in content_stems("deadlock")][:6]
    assert terms == ["situation", "two", "process", "unabl", "proceed", "wait"]
    deadlock = item("definition", [DEADLOCK_SENSE], subject="computing", key_terms=terms)
    assert is_right(
        "Deadlock is a situation in which two processes each wait for the other, so neither "
        "can proceed [1].",
        deadlock,
    )
    assert not is_right("A deadlock is a kind of lock used on doors.", deadlock)
    assert not is_right("Deadlock is a situation in a chess game.", deadlock)  # 1 term of 6
    assert not is_right("Deadlock is deadlock.", deadlock)


ZIRCONIUM = item("entry", ["zirconium"], question="Which chemical element has atomic number 40?")


@pytest.mark.parametrize(
    ("answer", "question", "right"),
    [
        ("Zirconium has atomic number 40 [1].", ZIRCONIUM, True),
        ("Element 40 is zirconium.", ZIRCONIUM, True),
        ("The atomic number of hydrogen is 1.", ZIRCONIUM, False),
        ("Zirconia is an oxide.", ZIRCONIUM, False),  # whole words only
        ("Cesium (Cs) has 55 protons.", item("entry", ["caesium", "cesium"]), True),
        ("It is titanium.", item("entry", ["tin"]), False),
        ("A schoolroom [1].", item("entry", ["classroom", "schoolroom"]), True),
        ("A school.", item("entry", ["classroom", "schoolroom"]), False),
    ],
)
def test_an_entry_is_named_as_whole_words(
    answer: str, question: AnswerQuestion, right: bool
) -> None:
    assert is_right(answer, question) is right


@pytest.mark.parametrize(
    ("answer", "right"),
    [
        ("Magnesium has more protons (12) than sodium (11) [1][2].", True),
        ("Magnesium.", True),
        ("Between sodium and magnesium, magnesium has more protons.", True),  # the pair echoed
        ("Sodium or magnesium? Magnesium, with 12.", True),
        ("Sodium.", False),  # the other element alone
        ("Sodium has more protons than magnesium.", False),
        ("Sodium has 11 protons, more than magnesium.", False),
    ],
)
def test_a_comparison_names_the_winner_first(answer: str, right: bool) -> None:
    question = item(
        "entry",
        ["magnesium"],
        rivals=["sodium"],
        question="Which has more protons, sodium or magnesium?",
    )
    assert is_right(answer, question) is right


def unanswerable(question: str, asks: AnswerType) -> AnswerQuestion:
    return item("none", [], question=question, asks=asks, subject="none")


@pytest.mark.parametrize(
    ("question", "answer", "right"),
    [
        ("What is the atomic number of vibranium?", "Vibranium has atomic number 108", False),
        (
            "What is the atomic number of vibranium?",
            "Vibranium is not in the curriculum, but it would be 108.",
            False,  # declines, then invents a number
        ),
        (
            "What is the atomic number of vibranium?",
            "I don't know: the curriculum does not mention vibranium.",
            True,
        ),
        ("What is the atomic number of vibranium?", "", True),
        ("Which element has the chemical symbol Xq?", "No element has the symbol Xq.", True),
        (
            "Which element has the chemical symbol Xq?",
            "No element has Xq; you may mean Xe, xenon.",
            False,
        ),
        ("Which element has the chemical symbol Xq?", "Xenon.", False),
        ("Who discovered adamantium?", "Adamantium was discovered by Stark Industries.", False),
        ("Who discovered adamantium?", "The curriculum has no record of adamantium.", True),
        ("What does QXZV stand for?", "QXZV stands for quick exchange zone vector.", False),
        ("What does QXZV stand for?", "The sources do not define QXZV [1].", True),
        ("Define flurbination.", "Flurbination is the process of folding proteins.", False),
        ("Define flurbination.", "I can't find flurbination in the curriculum.", True),
    ],
)
def test_an_unanswerable_question_is_right_only_unanswered(
    question: str, answer: str, right: bool
) -> None:
    kinds: dict[str, AnswerType] = {
        "What is the": "number",
        "Which eleme": "entry",
        "Who discover": "name",
        "What does Q": "text",
        "Define flur": "definition",
    }
    asks = next(kind for start, kind in kinds.items() if question.startswith(start))
    assert is_right(answer, unanswerable(question, asks)) is right
