"""Practice items from real curriculum passages, their grading, and the check through the API:
the key stays on the server until the check, and another student's item is not theirs to check."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from access.quotas import MemoryQuotaStore, Quotas
from access.tokens import TokenConfig, TokenVerifier, mint
from cluster.storage.db import with_practice_result
from deployments.api_access import AccessControl
from graphs.single_process import local_api, local_router
from practice.grading import is_correct
from practice.items import Passage, PracticeItem, facts_of, make_item, topic_of
from retrieval.shard import Hit
from tests.fakes.hashing_embedder import HashingEmbedder
from tests.fakes.llm import EchoSourceBackend

CONFIG = TokenConfig(issuer="ai-tutor", audience="ai-tutor", secret="p" * 40)
QUERY, CHECK = "/api/v1/ai-tutor/query", "/api/v1/ai-tutor/practice/check"


def hits_of(docs: list[dict[str, str]], *ids: str) -> list[Hit]:
    by_id = {d["id"]: d for d in docs}
    return [Hit(i, by_id[i]["subject"], by_id[i]["title"], by_id[i]["text"], 1.0) for i in ids]


def item(kind: str, key: str, choices: tuple[str, ...] = ()) -> PracticeItem:
    passage = Passage(id="chemistry:x", title="x", subject="chemistry", text="")
    return PracticeItem(
        item_id="i" * 24,
        kind=kind,  # type: ignore[arg-type]
        question="?",
        choices=list(choices),
        key=key,
        passage=passage,
    )


def test_the_topic_is_the_request_without_its_practice_words():
    assert topic_of("Quiz me on potassium") == "potassium"
    assert topic_of("give me some practice questions about noble gases") == "noble gases"
    assert topic_of("Make a multiple-choice question on recursion.") == "recursion"


def test_a_chemistry_item_asks_what_its_passage_states_and_its_key_is_that_value(chemistry_docs):
    hits = hits_of(chemistry_docs, "chemistry:potassium", "chemistry:sodium", "chemistry:argon")
    facts = facts_of(hits[0].text)
    assert facts["atomic number"] == "19" and facts["symbol"] == "K"
    seen = set()
    for seed in range(20):
        made = make_item(hits, random.Random(seed))
        assert made is not None and made.passage.id == "chemistry:potassium"
        seen.add(made.question)
        expected = {
            "What is the atomic number of potassium?": "19",
            "What is the chemical symbol for potassium?": "K",
            "What is the atomic weight of potassium?": "39.0983",
            "Who discovered potassium?": "Sir Humphry Davy",
        }[made.question]
        assert made.key == expected
        if made.choices:
            assert made.key in made.choices and len(set(made.choices)) == len(made.choices) == 4
    assert len(seen) >= 3  # items vary between requests


COMPILER = "A program that converts another program from some source language to machine language."


def test_a_definition_item_asks_for_the_term_or_its_meaning_and_varies(computing_docs):
    wanted = ("recursion", "compiler", "interpreter")
    docs = sorted((d for d in computing_docs if d["title"] in wanted), key=lambda d: d["title"])
    hits = [Hit(d["id"], d["subject"], d["title"], d["text"], 1.0) for d in docs]  # compiler 1st
    kinds = set()
    for seed in range(12):
        made = make_item(hits, random.Random(seed))
        assert made is not None and made.passage.id == "computing:compiler"
        kinds.add(made.kind)
        if made.kind == "term":
            assert made.key == "compiler" and "compiler" not in made.question.lower()
        else:
            assert made.question == "What does compiler mean?"
            assert made.key == COMPILER
        assert made.key in made.choices and len(made.choices) == 3
        assert is_correct(made, "ABC"[made.choices.index(made.key)])
    assert kinds == {"term", "meaning"}


@pytest.mark.parametrize(
    ("kind", "key", "answer", "right"),
    [
        ("number", "19", "19", True),
        ("number", "19", "It has 19 protons", True),
        ("number", "19", "3", False),
        ("number", "19", "19.4", False),  # a whole number is exact
        ("number", "39.0983", "39.1", True),
        ("number", "39.0983", "39", True),
        ("number", "39.0983", "41", False),
        ("symbol", "K", "k", True),
        ("symbol", "K", " K. ", True),
        ("symbol", "Co", "CO2", False),
        ("symbol", "Lu", "LU-7", False),
        ("name", "Humphry Davy", "davy", True),
        ("name", "Humphry Davy", "Sir Humphry Davy!", True),
        ("name", "Humphry Davy", "Dalton", False),
        ("term", "interpreter", "an interpreter", True),
        ("term", "interpreter", "interpreters", True),
        ("term", "interpreter", "compiler", False),
    ],
)
def test_grading_forgives_form_not_content(kind: str, key: str, answer: str, right: bool):
    assert is_correct(item(kind, key), answer) is right


def test_a_choice_may_be_answered_by_its_letter():
    choices = ("Na", "K", "Ar", "Ca")
    assert is_correct(item("symbol", "K", choices), "B")
    assert is_correct(item("symbol", "K", choices), "b)")
    assert not is_correct(item("symbol", "K", choices), "A")


def test_progress_counts_each_checked_item_in_total_and_by_subject():
    progress = {"notes": "kept"}
    progress = with_practice_result(progress, "chemistry", True)
    progress = with_practice_result(progress, "chemistry", False)
    after = with_practice_result(progress, "english", True)
    assert after["notes"] == "kept"
    assert after["practice"]["answered"] == 3 and after["practice"]["correct"] == 2
    assert after["practice"]["subjects"] == {
        "chemistry": {"answered": 2, "correct": 1},
        "english": {"answered": 1, "correct": 1},
    }
    assert "english" not in progress["practice"]["subjects"]  # the input is left as it was


@pytest.fixture
def client(chemistry_shards) -> Iterator[TestClient]:
    router = local_router(HashingEmbedder(), chemistry_shards, {"local": EchoSourceBackend()})
    access = AccessControl(TokenVerifier(CONFIG), Quotas(MemoryQuotaStore()))
    app, _ = local_api(router, access=access)
    with TestClient(app) as http:
        yield http


def auth(user: str, role: str = "student") -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(CONFIG, user, role, 600)}"}  # type: ignore[arg-type]


def test_a_practice_request_returns_an_item_without_its_key_and_the_check_grades_it(client):
    response = client.post(QUERY, json={"question": "Quiz me on potassium"}, headers=auth("ann"))
    assert response.status_code == 200, response.text
    body = response.json()
    practice = body["practice"]
    assert body["route"] == "practice-item" and practice["source_id"] == "chemistry:potassium"
    assert set(practice) == {"item_id", "kind", "question", "choices", "subject", "source_id"}
    assert practice["question"] in body["answer"]
    key = {"19", "K", "39.0983", "Sir Humphry Davy"}
    assert "potassium" in practice["question"]
    check = client.post(
        CHECK, json={"item_id": practice["item_id"], "answer": "no idea"}, headers=auth("ann")
    )
    assert check.status_code == 200, check.text
    graded = check.json()
    assert graded["correct"] is False and graded["answer"] in key
    assert graded["explanation"]["id"] == "chemistry:potassium"
    assert "Atomic number: 19" in graded["explanation"]["text"]
    again = client.post(
        CHECK,
        json={"item_id": practice["item_id"], "answer": graded["answer"]},
        headers=auth("ann"),
    )
    assert again.json()["correct"] is True and again.json()["counted"] is False


def test_another_students_item_or_an_unknown_one_is_a_404_that_reveals_nothing(client):
    made = client.post(QUERY, json={"question": "Quiz me on argon"}, headers=auth("ann"))
    item_id = made.json()["practice"]["item_id"]
    theirs = client.post(CHECK, json={"item_id": item_id, "answer": "18"}, headers=auth("bob"))
    unknown = client.post(CHECK, json={"item_id": "x" * 24, "answer": "18"}, headers=auth("bob"))
    for response in (theirs, unknown):
        assert response.status_code == 404
        assert response.json()["error"]["type"] == "practice_item_not_found"
        assert "answer" not in response.json()
    bad = client.post(CHECK, json={"item_id": "../../etc", "answer": ""}, headers=auth("ann"))
    assert bad.status_code == 422 and "item_id" in bad.json()["error"]["message"]
