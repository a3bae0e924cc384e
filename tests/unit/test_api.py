"""The HTTP API over the same service code, in one process: validation, errors, sessions, SSE."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from graphs.single_process import local_api, local_router
from retrieval.corpus import Document
from retrieval.dense import DenseIndexParams
from retrieval.ingest import build_shard
from service.router import RouterConfig
from tests.fakes.hashing_embedder import HashingEmbedder
from tests.fakes.llm import EchoSourceBackend, ScriptedBackend

QUERY = "/api/v1/ai-tutor/query"


@pytest.fixture(scope="module")
def shards(chemistry_docs, computing_docs):
    embedder = HashingEmbedder()
    out = {}
    for subject, docs in (("chemistry", chemistry_docs), ("computing", computing_docs[:300])):
        parsed = [Document.model_validate(d) for d in docs]
        out[subject] = build_shard(subject, parsed, embedder, DenseIndexParams(), False)
    return out


@pytest.fixture
def backend():
    return EchoSourceBackend()


@pytest.fixture
def client(shards, backend):
    router = local_router(HashingEmbedder(), shards, {"local": backend})
    app, _ = local_api(router)
    with TestClient(app) as test_client:
        yield test_client


def error_of(response) -> dict:
    body = response.json()
    assert set(body) >= {"error"} and set(body["error"]) >= {"type", "message"}
    return body["error"]


def test_a_question_is_answered_from_the_retrieved_sources(client):
    response = client.post(QUERY, json={"question": "What is the atomic number of carbon?"})
    assert response.status_code == 200
    body = response.json()
    assert body["sources"][0]["id"] == "chemistry:carbon"
    assert "Atomic number: 6" in body["answer"]
    assert body["model_version"] == "echo-source@1" and body["route"].endswith("->local")
    assert body["cache"] == {"hit": False}
    assert {"embed", "search", "generate"} <= set(body["timings_ms"])


def test_curl_style_form_encoded_json_is_accepted(client):
    response = client.post(
        QUERY,
        content='{"question": "What is the atomic number of carbon?"}',
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200 and response.json()["sources"]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"question": ""}, "question"),
        ({"question": "x" * 4001}, "at most 4000"),
        ({}, "question: Field required"),
        ({"question": "hi", "questoin": "typo"}, "questoin"),
        ({"question": "hi", "k": 0}, "k:"),
        ({"question": "hi", "session_id": "../../etc"}, "session_id"),
    ],
)
def test_bad_query_bodies_get_a_422_that_names_the_problem(client, body, needle):
    response = client.post(QUERY, json=body)
    assert response.status_code == 422
    assert needle in error_of(response)["message"]


def test_a_body_that_is_not_json_gets_a_422(client):
    response = client.post(QUERY, content="question=carbon", headers={"content-type": "text/plain"})
    assert response.status_code == 422 and error_of(response)["type"] == "invalid_request"


def test_whitespace_only_question_is_refused_as_empty(client):
    response = client.post(QUERY, json={"question": "   \n "})
    assert response.status_code == 422 and error_of(response)["type"] == "invalid_query"


def test_an_unknown_subject_is_a_422_listing_the_known_ones(client):
    response = client.post(QUERY, json={"question": "carbon", "subject": "history"})
    error = error_of(response)
    assert response.status_code == 422 and error["type"] == "unknown_subject"
    assert "chemistry, computing" in error["message"]


def test_a_subject_limits_the_sources_to_its_shard(client):
    response = client.post(QUERY, json={"question": "compiler", "subject": "computing", "k": 3})
    assert {s["subject"] for s in response.json()["sources"]} == {"computing"}
    assert len(response.json()["sources"]) == 3


def test_a_session_remembers_the_conversation(client, backend):
    session_id = client.post("/api/v1/ai-tutor/session/start", json={}).json()["session_id"]
    client.post(QUERY, json={"question": "What is carbon?", "session_id": session_id})
    client.post(QUERY, json={"question": "And its symbol?", "session_id": session_id})
    turns = client.get(f"/api/v1/ai-tutor/session/{session_id}").json()["turns"]
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant"]
    # The second question reached the model with the first exchange as history.
    second_prompt = backend.requests[1].messages
    assert [m.content for m in second_prompt[1:3]][0] == "What is carbon?"


def test_an_unknown_session_is_a_404_and_a_malformed_id_a_422(client):
    unknown = "A" * 32
    response = client.post(QUERY, json={"question": "carbon", "session_id": unknown})
    assert response.status_code == 404 and error_of(response)["type"] == "session_not_found"
    assert client.get("/api/v1/ai-tutor/session/short").status_code == 422


def test_ending_a_session_returns_its_length_and_then_it_is_gone(client):
    session_id = client.post("/api/v1/ai-tutor/session/start", json={}).json()["session_id"]
    client.post(QUERY, json={"question": "carbon", "session_id": session_id})
    ended = client.post("/api/v1/ai-tutor/session/end", json={"session_id": session_id})
    assert ended.json() == {"session_id": session_id, "ended": True, "turns": 2}
    assert client.get(f"/api/v1/ai-tutor/session/{session_id}").status_code == 404


def test_another_users_session_is_refused(client):
    started = client.post("/api/v1/ai-tutor/session/start", json={"user_id": "alice"}).json()
    response = client.get(f"/api/v1/ai-tutor/session/{started['session_id']}?user_id=bob")
    assert response.status_code == 403


def test_streaming_sends_sources_then_tokens_then_done(client):
    with client.stream("POST", QUERY, json={"question": "carbon", "stream": True}) as response:
        events = [
            json.loads(line[len("data: ") :])
            for line in response.iter_lines()
            if line.startswith("data: ")
        ]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "sources" and kinds[-1] == "done" and kinds.count("token") > 3


FAST_RETRIES = RouterConfig.model_validate({"retry": {"initial_backoff_s": 0.01}})


def test_with_every_model_down_the_answer_is_the_sources_and_says_so(shards):
    backend = EchoSourceBackend(fail="before")
    router = local_router(HashingEmbedder(), shards, {"local": backend}, config=FAST_RETRIES)
    app, _ = local_api(router)
    with TestClient(app) as client:
        response = client.post(QUERY, json={"question": "atomic number of carbon"})
    body = response.json()
    assert response.status_code == 200 and body["status"] == "degraded"
    assert "models are unavailable" in body["answer"]
    assert body["sources"][0]["id"] == "chemistry:carbon"
    assert body["route"].endswith("->sources-only") and body["fallbacks"] == 1
    assert len(backend.requests) == 3  # retried (BackendUnavailable is retryable), then gave up


def test_a_stream_broken_after_tokens_is_a_502_marked_partial_not_a_short_answer(shards):
    router = local_router(HashingEmbedder(), shards, {"local": EchoSourceBackend(fail="after")})
    app, _ = local_api(router)
    with TestClient(app) as client:
        response = client.post(QUERY, json={"question": "carbon"})
        streamed = client.post(QUERY, json={"question": "carbon", "stream": True}).text
    assert response.status_code == 502 and response.json()["status"] == "error"
    assert response.json()["error"]["type"] == "stream_interrupted"
    assert "event: error" in streamed and "event: done" not in streamed


def test_search_returns_ranked_documents(client):
    response = client.post(
        "/api/v1/retrieval/search", json={"query": "atomic number of carbon", "k": 3}
    )
    results = response.json()["results"]
    assert len(results) == 3 and results[0]["id"] == "chemistry:carbon"
    assert set(results[0]) == {"id", "title", "subject", "score"}


def test_metrics_count_answered_requests(client):
    client.post(QUERY, json={"question": "carbon"})
    text = client.get("/metrics").text
    assert 'tutor_requests_total{arm="",endpoint="query",status="ok"} 1.0' in text


def openai_stream_text(client: TestClient, question: str) -> str:
    body = {"messages": [{"role": "user", "content": question}], "stream": True}
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        chunks = [
            json.loads(line[len("data: ") :])
            for line in response.iter_lines()
            if line.startswith("data: ") and line != "data: [DONE]"
        ]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)


def test_an_openai_stream_says_whether_its_replacement_was_checked_or_could_not_be(shards):
    """OpenAI's stream cannot take text back, so the replacement follows it, introduced by
    what it is: a correction from the sources, or the sources' silence (never 'checked')."""
    backend = ScriptedBackend("The atomic number of carbon is 12 [1].")
    app, _ = local_api(local_router(HashingEmbedder(), shards, {"local": backend}))
    with TestClient(app) as client:
        corrected = openai_stream_text(client, "What is the atomic number of carbon?")
        silent = openai_stream_text(client, "What is the atomic number of vibranium?")
    assert "Correction (checked against the sources): The atomic number of carbon is 6" in corrected
    assert "Could not be checked against the sources: The curriculum does not say" in silent
    assert "checked against the sources)" not in silent
