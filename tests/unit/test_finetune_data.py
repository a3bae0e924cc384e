"""The fine-tuning data set built from the demo curriculum: questions from each entry's learned
fields and defining sentence, in phrasings made from the label and title alone; answers that
state the passage's value and cite it; prompts exactly as the router builds them; splits that
keep the test set (and the held-out documents) out of training; and none of the evaluation's
held-out forms ever trained on."""

from __future__ import annotations

import re

import pytest

from evaluation.answers import is_right, read_questions
from models.prompts import SourceText, build_messages
from retrieval.corpus import Document
from retrieval.shard import passages_of
from tests.conftest import CURRICULUM, ROOT
from training.finetune_data import (
    DataSet,
    Example,
    build_dataset,
    eval_sample,
    read_curriculum,
    split_of,
)
from training.questions import (
    DEFINITION_FORMS,
    FIELD_FORMS,
    HELD_OUT_FORMS,
    REVERSE_FORMS,
    held_out_form,
    judged,
)

SEED = 11
EVAL = ROOT / "data" / "eval"


@pytest.fixture(scope="module")
def docs():
    return read_curriculum(CURRICULUM)


@pytest.fixture(scope="module")
def data(docs) -> DataSet:
    return build_dataset(docs, SEED)


def cited(example: Example) -> SourceText:
    (number,) = re.findall(r"\[(\d+)\]", example.answer)
    return example.sources[int(number) - 1]


def phrasings(forms: tuple[str, ...], title: str, label: str = "", value: str = "") -> set[str]:
    return {
        f.format(title=title, Title=title.capitalize(), label=label, value=value) for f in forms
    }


def test_argons_atomic_number_is_asked_from_its_passage_and_answered_with_18(data):
    argon = [e for e in data.train if e.item.doc_id == "chemistry:argon"]
    number = [e for e in argon if e.item.kind == "field" and e.item.label == "atomic number"]
    assert number, "argon's 'Atomic number: 18' gives a question"
    for example in number:
        assert example.item.question in phrasings(FIELD_FORMS, "argon", "atomic number")
        assert re.fullmatch(r"The atomic number of argon is 18 \[[123]\]\.", example.answer)
        assert cited(example).title == "argon"
        assert "Atomic number: 18" in cited(example).text


def test_each_field_is_asked_in_several_phrasings_and_the_other_way_round(data):
    argon = [e for e in data.train if e.item.doc_id == "chemistry:argon"]
    asked = {e.item.question for e in argon if e.item.kind == "field"}
    assert {e.item.label for e in argon if e.item.kind == "field"} == {
        "symbol",
        "atomic number",
        "atomic weight",
    }
    assert len(asked) == 6  # three fields, two phrasings each
    reverse = {e.item.question: e.answer for e in argon if e.item.kind == "reverse"}
    symbol = phrasings(REVERSE_FORMS, "argon", "symbol", "Ar") & set(reverse)
    assert symbol and all(re.fullmatch(r"Argon has symbol Ar \[\d\]\.", reverse[q]) for q in symbol)


def test_every_answer_cites_the_passage_it_comes_from_and_evaluation_judges_it_right(data):
    for example in [*data.train, *data.held_out]:
        source = cited(example)
        assert source.title.lower() in example.answer.lower()
        if example.item.kind == "field":
            assert example.item.expected in source.text[:600]
        # What `tutor eval answers` would judge right: the answer the model learns to give.
        assert is_right(example.answer, judged(example.item)), example.answer


def test_definitions_ask_what_a_term_means_and_answer_with_its_defining_sentence(docs, data):
    titles = {d["id"]: d["title"] for d in docs}
    definitions = [e for e in data.train if e.item.kind == "definition"]
    assert {e.item.subject for e in definitions} == {"chemistry", "computing", "english"}
    for example in definitions:
        assert example.item.question in phrasings(DEFINITION_FORMS, titles[example.item.doc_id])
        sense = example.item.expected.rstrip(" ;,.")
        assert sense[1:].lower() in example.answer.lower()
        assert "Symbol:" not in sense  # an element's fields are not its definition


def test_no_question_has_a_held_out_form_of_the_evaluation(data):
    for example in [*data.train, *data.held_out]:
        assert held_out_form(example.item.question) is None, example.item.question
    # The forms themselves, and what the patterns are for: the evaluation's held-out questions.
    for forms in (FIELD_FORMS, REVERSE_FORMS, DEFINITION_FORMS):
        assert not any(held_out_form(q) for q in phrasings(forms, "argon", "symbol", "Ar"))
    held_out = {
        "Which has more protons, sodium or magnesium?": "comparison",
        "Is iron heavier than copper?": "comparison",
        "When was oxygen discovered?": "year",
        "In what year was neon isolated?": "year",
        "Which chemical element has atomic number 19?": "entry by number",
        "Name the element with 17 protons.": "entry by number",
        "What is another word for tall?": "synonym",
        "Give a synonym of happy.": "synonym",
        "What does CPU stand for?": "acronym",
        "What is RAM short for?": "acronym",
    }
    assert set(HELD_OUT_FORMS) == set(held_out.values())
    assert {q: held_out_form(q) for q in held_out} == held_out


def test_every_held_out_question_of_the_answer_sets_has_a_held_out_form():
    """The patterns cover the evaluation's own held-out questions (those on invented entries,
    which no training passage has, aside)."""
    sets = [read_questions(EVAL / f"answers.{split}.jsonl") for split in ("dev", "test")]
    held_out = [q for s in sets for q in s if q.held_out and q.subject != "none"]
    assert held_out
    assert [q.question for q in held_out if held_out_form(q.question) is None] == []


def made_up_docs() -> list[dict[str, str]]:
    """A subject the code has never seen; its "Year founded" field would ask a held-out form."""
    rows = []
    for i in range(24):
        name = f"Kingdom{chr(65 + i)}"
        text = (
            f"Capital: Town{chr(65 + i)} Currency code: K{chr(65 + i)} Calling code: {300 + i} "
            f"Year founded: {1700 + i}. {name} is a small and distant kingdom of shepherds."
        )
        rows.append(
            {"id": f"atlas:{name.lower()}", "subject": "atlas", "title": name, "text": text}
        )
    return rows


def test_a_made_up_subjects_fields_give_questions_with_no_code_change():
    data = build_dataset(made_up_docs(), SEED)
    examples = [*data.train, *data.held_out]
    labels = {e.item.label for e in examples if e.item.kind == "field"}
    assert labels == {"capital", "currency code", "calling code"}  # not "year founded"
    reverse = [e for e in examples if e.item.kind == "reverse"]
    assert reverse and all(e.item.expected == e.item.title for e in reverse)
    for example in examples:
        assert split_of(example.item.doc_id) == "dev"
        assert is_right(example.answer, judged(example.item)), example.answer
        assert "year" not in example.item.question.lower()


def test_the_right_passage_is_one_of_three_and_in_every_place(data):
    places = set()
    for example in data.train:
        assert len(example.sources) == 3
        assert len({s.title for s in example.sources}) == 3
        places.add(example.sources.index(cited(example)) + 1)
        assert {s.title for s in example.sources} - {cited(example).title}
    assert places == {1, 2, 3}


def test_the_prompt_is_what_the_router_builds_from_retrieved_passages(docs, data):
    served = {(p.title, p.text) for p in passages_of(Document.model_validate(d) for d in docs)}
    for example in data.train[:100]:
        assert all((s.title, s.text) in served for s in example.sources)
        rebuilt = [SourceText(s.title, s.text) for s in example.sources]
        assert example.messages() == build_messages(example.item.question, rebuilt)


def test_no_test_split_document_is_trained_on_not_even_as_a_distractor(docs, data):
    test_docs = (Document.model_validate(d) for d in docs if split_of(d["id"]) == "test")
    test_passages = {(p.title, p.text) for p in passages_of(test_docs)}
    for example in data.train:
        assert split_of(example.item.doc_id) == "dev"
        assert not {(s.title, s.text) for s in example.sources} & test_passages


def test_held_out_documents_are_never_in_training(data):
    held_docs = {e.item.doc_id for e in data.held_out}
    assert held_docs and not held_docs & {e.item.doc_id for e in data.train}
    held_passages = {(cited(e).title, cited(e).text) for e in data.held_out}
    for example in data.train:
        assert not {(s.title, s.text) for s in example.sources} & held_passages


def test_the_same_seed_gives_the_same_data_and_hash_and_another_seed_does_not(docs, data):
    again = build_dataset(docs, SEED)
    assert again.train == data.train and again.sha256 == data.sha256
    assert build_dataset(docs, SEED + 1).sha256 != data.sha256


def test_the_evaluation_sample_takes_each_kind_of_question_in_turn(data):
    sample = eval_sample(data.held_out, 10)
    assert len(sample) == 10
    assert {e.item.kind for e in sample} == {e.item.kind for e in data.held_out}
