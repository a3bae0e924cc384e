"""The fine-tuning data set built from the demo curriculum: questions from each passage's own
structure, answers that state the passage's value and cite it, prompts exactly as the router
builds them, and splits that keep the test set (and the held-out documents) out of training."""

from __future__ import annotations

import re

import pytest

from models.answer_eval import FORMS, is_right, split_of
from models.finetune_data import DataSet, Example, build_dataset, eval_sample, read_curriculum
from models.prompts import SourceText, build_messages
from retrieval.corpus import Document
from retrieval.shard import passages_of
from tests.conftest import CURRICULUM

SEED = 11


@pytest.fixture(scope="module")
def docs():
    return read_curriculum(CURRICULUM)


@pytest.fixture(scope="module")
def data(docs) -> DataSet:
    return build_dataset(docs, SEED)


def cited(example: Example) -> SourceText:
    (number,) = re.findall(r"\[(\d+)\]", example.answer)
    return example.sources[int(number) - 1]


def test_argons_atomic_number_is_asked_from_its_passage_and_answered_with_18(data):
    argon = [e for e in data.train if e.item.doc_id == "chemistry:argon"]
    number = [e for e in argon if e.item.kind == "atomic number"]
    assert number, "argon's 'Atomic number: 18' gives a question"
    for example in number:
        assert example.item.question in {f.format(t="argon") for f in FORMS["atomic number"]}
        assert re.fullmatch(r"The atomic number of argon is 18 \[[123]\]\.", example.answer)
        assert cited(example).title == "argon"
        assert "Atomic number: 18" in cited(example).text


def test_a_fact_is_asked_in_several_phrasings(data):
    asked = {e.item.question for e in data.train if e.item.doc_id == "chemistry:argon"}
    assert "What is the chemical symbol for argon?" in asked or "symbol of argon?" in asked
    assert len(asked) >= 6  # three facts, two phrasings each


def test_every_answer_cites_the_passage_it_comes_from_and_states_its_value(data):
    for example in [*data.train, *data.held_out]:
        source = cited(example)
        assert source.title.lower() in example.answer.lower()
        if example.item.kind != "definition":
            assert example.item.expected in source.text[:600]
        # What `tutor eval answers` would judge right: the answer the model learns to give.
        assert is_right(example.answer, example.item), example.answer


def test_definitions_ask_what_a_term_means_and_answer_with_its_first_sense(docs, data):
    titles = {d["id"]: d["title"] for d in docs}
    definitions = [e for e in data.train if e.item.kind == "definition"]
    assert {e.item.subject for e in definitions} == {"computing", "english"}
    for example in definitions:
        title = titles[example.item.doc_id]
        assert example.item.question in {f.format(t=title) for f in FORMS["definition"]}
        sense = example.item.expected.rstrip(" ;,.")
        assert sense[1:].lower() in example.answer.lower()


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
