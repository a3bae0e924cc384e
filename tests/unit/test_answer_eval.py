"""The labelled answer set and how an answer to each question is judged."""

from __future__ import annotations

from models.answer_eval import AnswerQuestion, build, first_sense, is_right, split_of

CARBON = {
    "id": "chemistry:carbon",
    "subject": "chemistry",
    "title": "carbon",
    "text": "Symbol: C Atomic number: 6 Atomic weight: 12.011 Carbon is a member of group 14. "
    "Discovered by the ancients.",
}
POTASSIUM = {
    "id": "chemistry:potassium",
    "subject": "chemistry",
    "title": "potassium",
    "text": "Symbol: K Atomic number: 19 Atomic weight: 39.0983 Soft silvery metal. Discovered "
    "by Sir Humphrey Davy in 1807.",
}
DEADLOCK = {
    "id": "computing:deadlock",
    "subject": "computing",
    "title": "deadlock",
    "text": "deadly embrace <operating system> A situation where two or more processes are "
    "unable to proceed because each is waiting for one of the others to do something.",
}


def question(kind: str, expected: str, terms: list[str] | None = None) -> AnswerQuestion:
    return AnswerQuestion(
        question="q",
        kind=kind,  # type: ignore[arg-type]
        subject="chemistry",
        doc_id="d",
        expected=expected,
        key_terms=terms or [],
    )


def test_facts_are_judged_by_the_value_the_passage_states():
    assert is_right("The atomic number of potassium is 19 [1].", question("atomic number", "19"))
    assert not is_right("Potassium's atomic number is 3.", question("atomic number", "19"))
    assert not is_right("It is [19].", question("atomic number", "19"))  # a citation is not it
    assert is_right("About 39.1 [1].", question("atomic weight", "39.0983"))
    assert not is_right("About 41 [1].", question("atomic weight", "39.0983"))
    assert is_right("Its symbol is K.", question("symbol", "K"))
    assert not is_right("Its symbol is KR.", question("symbol", "K"))
    assert is_right("Humphrey Davy found it.", question("discoverer", "Sir Humphrey Davy"))


def test_definitions_are_judged_by_half_their_key_terms():
    item = question("definition", "", ["situat", "proces", "waitin", "procee"])
    assert is_right("Processes each waiting for another, so none can proceed.", item)
    assert not is_right("A kind of lock used on doors.", item)


def test_the_set_holds_each_fact_and_splits_by_document():
    sets = build([CARBON, POTASSIUM, DEADLOCK], {"computing:deadlock"}, per_kind=15)
    every = [q for split in sets.values() for q in split]
    facts = {(q.doc_id, q.kind): q.expected for q in every if q.kind != "definition"}
    assert facts[("chemistry:potassium", "atomic number")] == "19"
    assert facts[("chemistry:potassium", "symbol")] == "K"
    assert facts[("chemistry:potassium", "discoverer")] == "Sir Humphrey Davy"
    assert ("chemistry:carbon", "discoverer") not in facts  # "by the ancients": no name
    for split, questions in sets.items():
        assert {split_of(q.doc_id) for q in questions} <= {split}
    (deadlock,) = [q for q in every if q.kind == "definition"]
    assert deadlock.expected.startswith("A situation where") and "proces" in deadlock.key_terms


def test_a_definitions_first_sense_drops_tags_synonyms_and_later_senses():
    assert first_sense("n 1: a word naming a thing [syn: x] 2: something else") == (
        "a word naming a thing"
    )
    assert first_sense(DEADLOCK["text"]).startswith("A situation")


def test_the_same_curriculum_builds_the_same_set():
    first = build([CARBON, POTASSIUM], set())
    assert first == build([CARBON, POTASSIUM], set())
