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
from practice.items import Passage, PracticeItem, item_facts, make_item, topic_of
from retrieval.shard import Hit
from retrieval.structure import learn
from tests.fakes.hashing_embedder import HashingEmbedder
from tests.fakes.llm import EchoSourceBackend

CONFIG = TokenConfig(issuer="ai-tutor", audience="ai-tutor", secret="p" * 40)
QUERY, CHECK = "/api/v1/ai-tutor/query", "/api/v1/ai-tutor/practice/check"


def hits_of(docs: list[dict[str, str]], *ids: str) -> list[Hit]:
    """Hits as a shard gives them: with the facts learned from the subject's entries."""
    learned = learn([(d["id"], d["title"], d["text"]) for d in docs])
    by_id = {d["id"]: d for d in docs}
    return [
        Hit(
            i,
            by_id[i]["subject"],
            by_id[i]["title"],
            by_id[i]["text"],
            1.0,
            facts=tuple(learned.facts(i).fields.items()),
            aliases=tuple(learned.facts(i).aliases),
        )
        for i in ids
    ]


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
    facts = item_facts(hits[0])
    assert facts["Atomic number"] == "19" and facts["Symbol"] == "K"
    expected = {
        "What is the atomic number of potassium?": ("19", "number"),
        "What is the symbol of potassium?": ("K", "code"),
        "What is the atomic weight of potassium?": ("39.0983", "number"),
    }
    seen = set()
    for seed in range(20):
        made = make_item(hits, random.Random(seed))
        assert made is not None and made.passage.id == "chemistry:potassium"
        seen.add(made.question)
        assert (made.key, made.kind) == expected[made.question]
        # Wrong choices are the other entries' values of the same field (and near numbers).
        assert made.key in made.choices and len(set(made.choices)) == len(made.choices) >= 3
        if made.kind == "code":
            assert set(made.choices) == {"K", "Na", "Ar"}
        assert is_correct(made, made.key.lower())
        assert is_correct(made, "ABCD"[made.choices.index(made.key)])
        assert made.label in item_facts(hits[0])  # the field asked, as the entry writes it
    assert len(seen) == 3  # items vary between requests


# A made-up subject the product has never seen: its fields are learned, nothing is named.
ATLAS = [
    ("Ruritania", "Strelsau", "RUR", "381", "Rudolf Elphberg"),
    ("Syldavia", "Klow", "SYK", "390", "Ottokar Muskar"),
    ("Freedonia", "Marxburg", "FRD", "299", "Rufus Firefly"),
    ("Graustark", "Edelweiss", "GRG", "377", "Yetive Guggenslocker"),
]
ATLAS_DOCS = [
    {
        "id": f"atlas:{name.lower()}",
        "subject": "atlas",
        "title": name,
        "text": f"Capital: {capital} Currency code: {code} Calling code: {calling} "
        f"Head of state: {head}. {name} is a small kingdom far from anywhere.",
    }
    for name, capital, code, calling, head in ATLAS
]


def test_a_made_up_subjects_fields_make_items_graded_by_their_shape_with_no_code_change():
    hits = hits_of(
        ATLAS_DOCS, "atlas:ruritania", "atlas:syldavia", "atlas:freedonia", "atlas:graustark"
    )
    right = {
        "What is the capital of Ruritania?": ("Strelsau", "value", "strelsau"),
        "What is the currency code of Ruritania?": ("RUR", "code", "rur"),
        "What is the calling code of Ruritania?": ("381", "number", "+381"),
        "What is the head of state of Ruritania?": ("Rudolf Elphberg", "name", "Elphberg"),
    }
    wrong = {"value": "Klow", "code": "SYK", "number": "390", "name": "Muskar"}
    seen = set()
    for seed in range(30):
        made = make_item(hits, random.Random(seed))
        assert made is not None and made.passage.id == "atlas:ruritania"
        key, kind, answer = right[made.question]
        assert (made.key, made.kind) == (key, kind) and made.label is not None
        assert is_correct(made, answer) and not is_correct(made, wrong[kind])
        if kind == "code":  # among the other kingdoms' codes
            assert sorted(made.choices) == ["FRD", "GRG", "RUR", "SYK"]
        elif kind == "number":
            assert made.key in made.choices and len(set(made.choices)) == 4
        else:
            assert made.choices == []  # a capital or a name is asked open
        seen.add(made.question)
    assert len(seen) == 4


COMPILER = "A program that converts another program from some source language to machine language."


def test_a_definition_item_asks_for_the_term_or_its_meaning_and_varies(computing_docs):
    wanted = ("recursion", "compiler", "interpreter")
    docs = sorted((d for d in computing_docs if d["title"] in wanted), key=lambda d: d["title"])
    hits = hits_of(docs, *(d["id"] for d in docs))  # compiler first
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
        ("code", "K", "k", True),
        ("code", "K", " K. ", True),
        ("code", "Co", "CO2", False),
        ("code", "Lu", "LU-7", False),
        ("name", "Humphry Davy", "davy", True),
        ("name", "Humphry Davy", "Sir Humphry Davy!", True),
        ("name", "Humphry Davy", "Dalton", False),
        ("term", "interpreter", "an interpreter", True),
        ("term", "interpreter", "interpreters", True),
        ("term", "interpreter", "compiler", False),
        ("value", "Strelsau", "strelsau", True),
        ("value", "Strelsau", "Klow", False),
    ],
)
def test_grading_forgives_form_not_content(kind: str, key: str, answer: str, right: bool):
    assert is_correct(item(kind, key), answer) is right


def test_a_choice_may_be_answered_by_its_letter():
    choices = ("Na", "K", "Ar", "Ca")
    assert is_correct(item("code", "K", choices), "B")
    assert is_correct(item("code", "K", choices), "b)")
    assert not is_correct(item("code", "K", choices), "A")


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
    key = {"19", "K", "39.0983"}
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
