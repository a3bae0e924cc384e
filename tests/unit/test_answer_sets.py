"""The answer sets: what the builder reads from the demo corpora's passages, the split by
document, the held-out forms and the unanswerable questions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation import passages
from evaluation.answer_sets import (
    Maker,
    build,
    discovery,
    elements,
    read_curriculum,
    split_of,
    unanswerable,
)
from evaluation.answers import AnswerQuestion, is_right, read_questions
from evaluation.forms import FORMS, Form
from scripts.make_demo_curriculum import MUST_KEEP

ROOT = Path(__file__).resolve().parents[2]


def doc(doc_id: str, text: str) -> dict[str, str]:
    subject, _, name = doc_id.partition(":")
    return {"id": doc_id, "subject": subject, "title": name.replace("_", " "), "text": text}


POTASSIUM = doc(
    "chemistry:potassium",
    "Symbol: K Atomic number: 19 Atomic weight: 39.0983 Soft silvery metallic element "
    "belonging to group 1 of the periodic table (alkali metals). Discovered by Sir Humphry "
    "Davy in 1807.",
)
SODIUM = doc(
    "chemistry:sodium",
    "Symbol: Na Atomic number: 11 Atomic weight: 22.9898 Soft silvery reactive element "
    "belonging to group 1 of the periodic table. It was first isolated by Humphrey Davy in 1807.",
)
STRONTIUM = doc(
    "chemistry:strontium",
    "Symbol: Sr Atomic number: 38 Atomic weight: 87.62 Soft yellowish metallic element, "
    "belongs to group 2 of the periodic table. Discovered in 1798 by Klaproth and Hope, "
    "isolated in 1808 by Humphry Davy.",
)
TUNGSTEN = doc(
    "chemistry:tungsten",
    "Symbol: W Atomic number: 74 Atomic weight: 183.85 White or grey metallic transition "
    "element. First isolated by Jose and Fausto de Elhuyer in 1783.",
)
WOLFRAM = doc("chemistry:wolfram", "Original name for tungsten.")
DEADLOCK = doc(
    "computing:deadlock",
    "deadly embrace <parallel, programming> A situation where two or more processes are "
    "unable to proceed because each is waiting for one of the others to do something.",
)
ZAP = doc(
    "english:zap",
    "n 1: a sudden event that imparts energy or excitement v 1: strike suddenly and with "
    "force [syn: zap, vaporize]",
)


def asked(form: str, phrasing: str, docs: list[dict[str, str]]) -> list[AnswerQuestion]:
    """The questions of one form, with one phrasing."""
    only = Form(form, FORMS[form].answer_type, (phrasing,), FORMS[form].held_out)
    part = "year" if form.startswith("year") else "by"
    return list(discovery(Maker(only, "chemistry", 1), elements(docs), part))


def test_who_discovered_and_who_isolated_are_asked_of_their_own_event() -> None:
    (first,) = asked("discoverer of X", "Who discovered {t}?", [STRONTIUM])
    assert first.expected[0] == "Klaproth and Hope"
    assert is_right("Martin Klaproth, with Hope.", first)
    (isolated,) = asked("discoverer of X", "Who first isolated {t}?", [STRONTIUM])
    assert isolated.expected == ["Humphry Davy"]
    (year,) = asked("year X was discovered", "When was {t} first isolated?", [STRONTIUM])
    assert year.expected == ["1808"]
    # a passage that states one event answers both questions
    (sodium,) = asked("discoverer of X", "Who discovered {t}?", [SODIUM])
    assert sodium.expected == ["Humphrey Davy"]


def test_names_keep_their_particles_and_other_names_are_right_too() -> None:
    (tungsten,) = asked("discoverer of X", "Who discovered {t}?", [TUNGSTEN])
    assert "Fausto de Elhuyer" in tungsten.expected
    assert not is_right("Jose discovered it.", tungsten)  # a first name shared by brothers
    (element,) = [e for e in elements([TUNGSTEN, WOLFRAM]) if e.title == "tungsten"]
    assert element.names == ("tungsten", "wolfram")


def test_a_dictionary_entrys_first_sense_and_synonyms() -> None:
    assert passages.first_sense(DEADLOCK["text"]).startswith("A situation where two")
    assert passages.first_sense(ZAP["text"]) == "a sudden event that imparts energy or excitement"
    assert passages.first_synonyms(ZAP["text"], "zap") == []  # the verb's, not the noun's
    assert passages.synonyms(ZAP["text"], "zap") == ["vaporize"]


@pytest.mark.parametrize(
    ("acronym", "text", "expected"),
    [
        ("DACTL", "Declarative Alvey Compiler Target Language. An intermediate language.", 1),
        ("GRIND", "GRaphical INterpretive Display. A graphics input language.", 1),
        ("IEEE", "Institute of Electrical and Electronics Engineers", 1),
        ("ACE", "1. Advanced Computing Environment. 2. Adaptive Communication Environment.", 2),
        ("ART", "<language> A real-time functional language developed by M. Broy.", 0),
        ("ALEF", "<language> A programming language from Bell Labs.", 0),
    ],
)
def test_an_acronym_expands_only_to_words_that_spell_it(
    acronym: str, text: str, expected: int
) -> None:
    assert len(passages.expansions(text, acronym)) == expected


def test_a_two_element_question_goes_to_a_split_only_with_both_its_documents() -> None:
    sets = build([POTASSIUM, SODIUM, STRONTIUM, TUNGSTEN, DEADLOCK], {"computing:deadlock"})
    for split, questions in sets.items():
        for question in questions:
            assert {split_of(d) for d in question.doc_ids} <= {split}
    every = [q for questions in sets.values() for q in questions]
    assert any(q.form == "definition of X" for q in every)
    held = {q.form for q in every if q.held_out and q.subject != "none"}
    assert held <= {
        "element by atomic number",
        "year X was discovered",
        "comparison of two elements",
    }


def test_each_split_has_its_own_unanswerable_questions() -> None:
    dev, test = unanswerable("dev", 1), unanswerable("test", 1)
    assert len(dev) == len(test) == 12
    assert all(q.answer_type == "none" and q.held_out and not q.doc_ids for q in dev)
    assert not {q.question for q in dev} & {q.question for q in test}


def test_a_made_up_name_that_a_passage_holds_is_refused() -> None:
    with pytest.raises(ValueError, match="vibranium"):
        build([doc("english:vibranium", "n 1: a metal of comic books")], set())


def test_the_committed_sets_are_what_the_builder_makes() -> None:
    """data/eval/answers.*.jsonl were made by scripts/make_answer_set.py from the curriculum;
    a change to the builder shows here until the sets are remade."""
    chosen = {f"{s}:{term}" for s, terms in MUST_KEEP.items() for term in terms}
    sets = build(read_curriculum(ROOT / "data/curriculum"), chosen)
    for split, questions in sets.items():
        committed = read_questions(ROOT / f"data/eval/answers.{split}.jsonl")
        assert [json.loads(q.model_dump_json()) for q in committed] == [
            json.loads(q.model_dump_json()) for q in questions
        ]
