"""The grounding check on answers like the local model's, over the demo curriculum's passages."""

from __future__ import annotations

import pytest

from models.prompts import SourceText
from models.response_optimizer import (
    Evidence,
    GroundingConfig,
    check,
    extractive_answer,
    strict_prompt,
)

POTASSIUM = SourceText(
    "potassium",
    "Symbol: K Atomic number: 19 Atomic weight: 39.0983 Soft silvery metal, the seventh most "
    "abundant element in the Earth's crust. Discovered by Sir Humphrey Davy in 1807.",
)
LUTETIUM = SourceText(
    "lutetium",
    "Symbol: Lu Atomic number: 71 Atomic weight: 174.967 Silvery-white rare-earth metal. "
    "Discovered in 1907 by Georges Urbain.",
)
THICKNET = SourceText(
    "10base5",
    "thicknet <networking> An Ethernet network cabling specification operating at ten Mbps, "
    '"baseband", and with a maximum single cable length of 500 metres.',
)
HASH = SourceText(
    "hash function",
    "<algorithm> A function that maps a key to an index in a table, used to look data up quickly.",
)
CONFIG = GroundingConfig()


def verdict(answer: str, question: str, *sources: SourceText) -> tuple[str, list[str]]:
    grounding = check(answer, Evidence(question, sources), CONFIG)
    return grounding.verdict, grounding.unsupported


@pytest.mark.parametrize(
    "answer",
    [
        "The atomic number of potassium is 3.",
        "Potassium has an atomic number of 39 [1].",  # a number the passage has: its weight
        "The atomic number of potassium is 19, discovered in 1808 [1].",  # a wrong date
    ],
)
def test_a_wrong_atomic_number_or_date_is_caught(answer: str):
    assert verdict(answer, "What is the atomic number of potassium?", POTASSIUM)[0] == (
        "unsupported"
    )


@pytest.mark.parametrize(
    "answer",
    [
        "The atomic number of potassium is 19 [1].",
        "Potassium has 19 protons, so its atomic number is nineteen: 19.",
        "Potassium's atomic number is 19 and its symbol is K [1].",
    ],
)
def test_the_right_number_in_other_words_passes(answer: str):
    assert verdict(answer, "What is the atomic number of potassium?", POTASSIUM) == (
        "supported",
        [],
    )


def test_a_malformed_symbol_is_caught_and_the_right_one_passes():
    question = "What is the symbol for lutetium?"
    assert verdict("The symbol for lutetium is LU-7.", question, LUTETIUM)[0] == "unsupported"
    assert verdict("The symbol for lutetium is Lu [1].", question, LUTETIUM)[0] == "supported"


def test_decimals_match_at_the_answers_precision_and_units_do_not_matter():
    question = "What is the atomic weight of potassium?"
    assert verdict("It is about 39.1 [1].", question, POTASSIUM)[0] == "supported"
    assert verdict("It is 39.0983 atomic mass units.", question, POTASSIUM)[0] == "supported"
    assert verdict("It is 41.2 [1].", question, POTASSIUM)[0] == "unsupported"
    question = "How long can a thicknet cable be?"
    assert verdict("Up to 500 metres [1].", question, THICKNET)[0] == "supported"
    assert verdict("Up to 185 metres [1].", question, THICKNET)[0] == "unsupported"


def test_a_name_the_passages_do_not_hold_is_caught():
    question = "Who discovered potassium?"
    assert verdict("It was discovered by Humphrey Davy [1].", question, POTASSIUM)[0] == (
        "supported"
    )
    assert verdict("It was discovered by Marie Curie [1].", question, POTASSIUM)[0] == (
        "unsupported"
    )


def test_an_answer_with_no_checkable_claim_is_judged_by_its_key_terms():
    question = "What is a hash function?"
    right = "A hash function maps a key to an index in a table so data is found quickly [1]."
    wrong = "Hashing encrypts passwords with secret ciphers for banking security."
    assert verdict(right, question, HASH)[0] == "supported"
    assert verdict(wrong, question, HASH)[0] == "unsupported"


def test_the_extractive_answer_states_the_asked_field_and_cites_it():
    evidence = Evidence("what's potassium's atomic number", [HASH, POTASSIUM])
    answer = extractive_answer(evidence)
    assert answer == "The atomic number of potassium is 19 [2]."
    assert check(answer, evidence, CONFIG).verdict == "supported"
    definition = extractive_answer(Evidence("What is a hash function?", [HASH]))
    assert definition is not None and "maps a key" in definition and definition.endswith("[1]")


def test_the_stricter_prompt_quotes_the_passage_unit_that_answers():
    prompt = strict_prompt(Evidence("What is the symbol for lutetium?", [LUTETIUM]))
    assert prompt is not None and '"Symbol: Lu"' in prompt and "[1]" in prompt


def test_a_definitions_extractive_answer_is_its_first_sentence_without_tags_or_other_names():
    recursion = SourceText(
        "recursion",
        "mutually recursive mutual recursion recurse <mathematics, programming> When a function "
        '(or procedure) calls itself. Such a function is called "recursive".',
    )
    answer = extractive_answer(Evidence("Define recursion.", [recursion]))
    assert answer == "recursion: When a function (or procedure) calls itself. [1]"


def test_a_definition_question_takes_the_named_entrys_first_sentence_not_a_wordier_later_one():
    # The real entry, shortened: its later sentences repeat "interpreter" and "program" more
    # often than its definition does, which once made the repair answer "See also ...".
    interpreter = SourceText(
        "interpreter",
        "interpreted <programming> A program which executes other programs. This is in contrast "
        "to a compiler which does not execute its input program but translates it. It may be "
        "possible to execute the same source code either directly by an interpreter or by "
        "compiling it. See also partial evaluation, interpreter program.",
    )
    for question in ("What is interpreter?", "Define interpreter.", "What does interpreter mean?"):
        answer = extractive_answer(Evidence(question, [HASH, interpreter]))
        assert answer == "interpreter: A program which executes other programs. [2]", question


def test_a_named_elements_field_is_not_taken_from_another_elements_passage():
    # Retrieved for "symbol of roentgenium?": a later part of roentgenium's entry (no header),
    # then joliotium's, which states a symbol. Jl is not roentgenium's symbol.
    roentgenium = SourceText("roentgenium", "In their 2003 report, the JWP decided that ...")
    joliotium = SourceText("joliotium", "Symbol: Jl Competing name for unnilpentium.")
    evidence = Evidence("symbol of roentgenium?", [roentgenium, joliotium])
    assert check("The symbol is Rg [1].", evidence, CONFIG).unsupported == ["Rg"]
    assert "Jl" not in (extractive_answer(evidence) or "")


GRAMMAR = SourceText(
    "grammar",
    "n 1: the branch of linguistics that deals with syntax and morphology (and sometimes "
    "also deals with semantics) … 2: a book of rules for a language",
)


def test_a_definition_that_leaves_out_what_the_entry_says_it_is_is_repaired():
    # The base model's answer in the 2026-12-01 run: half its terms are in the passage, and
    # it says nothing of what grammar is.
    vague = "Grammar is the language of language, the rules of a language [1]."
    result = check(vague, Evidence("What is grammar?", [GRAMMAR]), CONFIG)
    assert result.verdict == "unsupported"
    assert result.unsupported[0].startswith("definition: the branch of linguistics")
    right = "Grammar is the branch of linguistics dealing with syntax and morphology [1]."
    assert verdict(right, "Define grammar.", GRAMMAR)[0] == "supported"
    repaired = extractive_answer(Evidence("What is grammar?", [GRAMMAR]))
    assert repaired is not None and "branch of linguistics" in repaired
    assert "book of rules" not in repaired  # the carried lead, not the later sense


def test_a_question_names_the_longest_title_it_holds_as_whole_words():
    obj = SourceText(
        "object", "<object-oriented> In object-oriented programming, a unique instance."
    )
    oop = SourceText(
        "object-oriented programming",
        "<programming> The use of a class of programming languages and techniques based on "
        'the concept of an "object" which is a data structure encapsulated with procedures.',
    )
    question = "What does object-oriented programming mean?"
    answer = extractive_answer(Evidence(question, [obj, oop]))
    assert (
        answer is not None and answer.startswith("object-oriented programming:") and "[2]" in answer
    )
    vague = "Object-oriented programming is a way of programming with objects [1]."
    assert verdict(vague, question, obj, oop)[0] == "unsupported"


def test_a_discoverer_with_a_particle_in_the_name_is_read_whole():
    platinum = SourceText(
        "platinum",
        "Symbol: Pt Atomic number: 78 Atomic weight: 195.08 Attractive greyish-white metal. "
        "Discovered by Antonio de Ulloa in 1735.",
    )
    evidence = Evidence("Who discovered platinum?", [platinum])
    assert extractive_answer(evidence) == "The discoverer of platinum is Antonio de Ulloa [1]."
    assert check("It was discovered by Antonio [1].", evidence, CONFIG).verdict == "unsupported"
