"""The response cache inside the real router (one process, memory store): what hits, what must
not, what is never stored, and what a curriculum change removes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from graphs.single_process import local_api, local_router
from response_cache.stores import MemoryResponseCache
from retrieval.corpus import Document
from retrieval.dense import DenseIndexParams
from retrieval.ingest import build_shard
from service.router import RouterConfig
from tests.fakes.hashing_embedder import HashingEmbedder
from tests.fakes.llm import EchoSourceBackend

QUERY = "/api/v1/ai-tutor/query"
# The hashing embedder is no paraphrase model: a lower threshold lets its vectors meet.
CONFIG = RouterConfig.model_validate({"cache": {"semantic_threshold": 0.5}})


@pytest.fixture(scope="module")
def shards(chemistry_docs, computing_docs):
    embedder, out = HashingEmbedder(), {}
    for subject, docs in (("chemistry", chemistry_docs), ("computing", computing_docs[:300])):
        parsed = [Document.model_validate(d) for d in docs]
        out[subject] = build_shard(subject, parsed, embedder, DenseIndexParams(), False)
    return out


@pytest.fixture
def setup(shards):
    backend, cache = EchoSourceBackend(), MemoryResponseCache()
    router = local_router(HashingEmbedder(), shards, {"local": backend}, config=CONFIG, cache=cache)
    app, _ = local_api(router)
    with TestClient(app) as client:
        yield client, backend, cache


def ask(client: TestClient, question: str, **extra: object) -> dict:
    response = client.post(QUERY, json={"question": question, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_repeated_question_is_answered_from_the_cache_without_a_model_call(setup):
    client, backend, _ = setup
    first = ask(client, "What is the atomic number of carbon?")
    second = ask(client, "what is the atomic number of carbon")
    assert first["cache"] == {"hit": False} and second["cache"]["kind"] == "exact"
    assert second["answer"] == first["answer"] and second["sources"] == first["sources"]
    assert len(backend.requests) == 1 and second["usage"]["completion_tokens"] == 0


def test_a_paraphrase_hits_semantically(setup):
    client, backend, _ = setup
    ask(client, "What is the atomic number of carbon?")
    again = ask(client, "Tell me the atomic number of carbon.")
    assert again["cache"]["hit"] and again["cache"]["kind"] == "semantic"
    assert len(backend.requests) == 1


def test_a_near_miss_is_not_served_the_other_answer(setup):
    client, backend, _ = setup
    carbon = ask(client, "What is the atomic number of carbon?")
    oxygen = ask(client, "What is the atomic number of oxygen?")
    assert not oxygen["cache"]["hit"] and oxygen["answer"] != carbon["answer"]
    assert len(backend.requests) == 2


def test_personal_questions_are_never_cached(setup):
    client, backend, _ = setup
    for _ in range(2):
        assert not ask(client, "How am I doing with the periodic table?")["cache"]["hit"]
    assert len(backend.requests) == 2


def test_streamed_answers_are_cached_once_complete(setup):
    client, backend, _ = setup
    client.post(QUERY, json={"question": "What is a compiler?", "stream": True}).read()
    assert ask(client, "What is a compiler?")["cache"]["hit"]
    assert len(backend.requests) == 1


def test_a_broken_answer_is_never_cached(shards):
    backend, cache = EchoSourceBackend(fail="after"), MemoryResponseCache()
    router = local_router(HashingEmbedder(), shards, {"local": backend}, config=CONFIG, cache=cache)
    app, _ = local_api(router)
    with TestClient(app) as client:
        for _ in range(2):
            assert client.post(QUERY, json={"question": "What is gold?"}).status_code == 502
    assert len(backend.requests) == 2


async def test_changing_a_cited_document_drops_exactly_its_answers(setup):
    client, backend, cache = setup
    carbon = ask(client, "What is the atomic number of carbon?")
    ask(client, "What is a compiler?")
    dropped = await cache.drop_documents({carbon["sources"][0]["id"]})
    assert dropped == 1
    assert not ask(client, "What is the atomic number of carbon?")["cache"]["hit"]
    assert ask(client, "What is a compiler?")["cache"]["hit"]
    assert len(backend.requests) == 3


def test_lookups_are_counted_in_metrics(setup):
    client, _, _ = setup
    ask(client, "What is the atomic number of carbon?")  # epochs learned: no lookup yet
    ask(client, "What is the atomic number of oxygen?")  # close to carbon's: guard rejects
    ask(client, "What is the atomic number of oxygen?")  # an exact hit
    text = client.get("/metrics").text
    assert 'tutor_cache_lookups_total{result="hit_exact"} 1.0' in text
    assert 'tutor_cache_lookups_total{result="rejected"} 1.0' in text
