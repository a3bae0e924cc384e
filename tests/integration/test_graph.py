"""The real graph under `serve.run`: embedder, FAISS shards, vLLM on SmolLM2, Redis, PostgreSQL.

Redis here is a server this module starts on its own port, so one test can stop it and start it
again; PostgreSQL is a throwaway database. The demo indexes and the model come from
`make prepare` (which `make test` runs first); the graph serves a copy of the indexes, so that the
last test can publish the whole computing corpus into it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import openai
import psycopg
import pytest
import ray
from ray import serve

from cluster.storage.migrate import migrate
from graphs.tutor import TutorAppArgs, build_app
from grounding.text import mentions, numbers_in
from retrieval.store import ShardStore
from tests.conftest import ROOT, bearer, run_tutor, shared_corpus
from tests.fakes.openai_server import free_port
from tests.integration.browser import (
    TutorPage,
    answer_key,
    answer_practice,
    chromium,
    finished,
    practice_keys,
    texts,
)
from tests.integration.redis_server import RedisServer

pytestmark = pytest.mark.integration

DATA_DIR = Path(os.environ.get("DATA_DIR", ROOT / "var")).resolve()
ADMIN = bearer("it-admin", "admin", data_dir=DATA_DIR)
INDEX_DIR = DATA_DIR / "indexes"
MODEL_DIR = DATA_DIR / "models" / "smollm2-135m-instruct"
SUBJECTS = ["chemistry", "computing", "english"]
DEPLOYMENTS = {"Ingress", "Router", "Embedder", "LLM-local"} | {f"Retriever-{s}" for s in SUBJECTS}


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def served_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for path in (INDEX_DIR / "english" / "CURRENT", MODEL_DIR / "tutor-model.json"):
        if not path.is_file():
            pytest.fail(f"{path} is missing: run `make prepare` (make test does it first)")
    copy = tmp_path_factory.mktemp("served") / "indexes"
    shutil.copytree(INDEX_DIR, copy, symlinks=True)
    return copy


@pytest.fixture(scope="module")
def tutor(redis_server: RedisServer, database_url: str, served_index_dir: Path) -> Iterator[str]:
    """The whole application, deployed with serve.run; yields its base URL."""
    migrate(database_url)
    env = {
        "REDIS_URL": redis_server.url,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(DATA_DIR),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "RAY_metrics_report_interval_ms": "1000",
    }
    os.environ.update({"RAY_AUTH_MODE": "disabled", "RAY_worker_niceness": "0"})
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _temp_dir=f"/tmp/ray-it-{os.getpid()}",
        runtime_env={"env_vars": env},
        _metrics_export_port=free_port(),
    )
    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    args = TutorAppArgs(subjects=SUBJECTS, index_dir=str(served_index_dir))
    serve.run(build_app(args), name="tutor", route_prefix="/")
    yield f"http://127.0.0.1:{port}"
    serve.shutdown()
    ray.shutdown()


@pytest.fixture(scope="module")
def client(tutor: str) -> Iterator[httpx.Client]:
    """An admin's client (it may act for named users, as a school's backend would)."""
    with httpx.Client(base_url=tutor, timeout=120, headers=ADMIN) as http:
        yield http


def ask(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post("/api/v1/ai-tutor/query", json=body)


@pytest.mark.usefixtures("tutor")
def test_every_node_is_its_own_healthy_deployment():
    app = serve.status().applications["tutor"]
    assert app.status == "RUNNING"
    statuses = {name: d.status for name, d in app.deployments.items()}
    assert set(statuses) == DEPLOYMENTS
    assert set(statuses.values()) == {"HEALTHY"}


def test_the_carbon_question_is_answered_from_the_chemistry_source(client: httpx.Client):
    response = ask(client, question="What is the atomic number of carbon?")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sources"][0]["id"] == "chemistry:carbon"
    assert "6" in body["answer"]
    manifest = json.loads((MODEL_DIR / "tutor-model.json").read_text())
    assert body["model_version"] == manifest["version"]
    assert body["route"] == "default-factual->local" and body["query_class"] == "simple_factual"
    assert body["usage"]["completion_tokens"] > 0
    assert {"embed", "search", "first_token", "generate"} <= set(body["timings_ms"])


def test_search_returns_ranked_documents_across_shards(client: httpx.Client):
    response = client.post("/api/v1/retrieval/search", json={"query": "hash function", "k": 5})
    results = response.json()["results"]
    assert results[0]["id"] == "computing:hash_function"
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True) and len(results) == 5


def test_bad_input_through_the_graph_is_a_4xx_naming_the_problem(client: httpx.Client):
    unknown = ask(client, question="carbon", subject="history")
    assert unknown.status_code == 422
    assert unknown.json()["error"]["type"] == "unknown_subject"
    empty = ask(client, question="   ")
    assert empty.status_code == 422 and empty.json()["error"]["type"] == "invalid_query"
    missing = ask(client, question="carbon", session_id="B" * 32)
    assert missing.status_code == 404


def test_a_session_lives_in_redis_and_carries_the_conversation(
    client: httpx.Client, redis_server: RedisServer
):
    profile = {"class_level": 8, "subjects": ["chemistry"]}
    assert client.put("/api/v1/users/amina", json=profile).status_code == 200
    started = client.post("/api/v1/ai-tutor/session/start", json={"user_id": "amina"})
    assert started.json()["profile"]["class_level"] == 8
    session_id = started.json()["session_id"]
    answered = ask(client, question="What is carbon?", session_id=session_id, user_id="amina")
    assert answered.status_code == 200, answered.text
    stored = json.loads(redis_server.client().get(f"tutor:session:{session_id}"))
    assert [t["role"] for t in stored["turns"]] == ["user", "assistant"]
    got = client.get(f"/api/v1/ai-tutor/session/{session_id}", params={"user_id": "amina"})
    assert got.json()["turns"][0]["content"] == "What is carbon?"
    assert (
        client.get(f"/api/v1/ai-tutor/session/{session_id}", params={"user_id": "bob"}).status_code
        == 403
    )


def test_each_answer_is_logged_in_postgres(client: httpx.Client, database_url: str):
    ask(client, question="What is a noun?")
    deadline = time.monotonic() + 20
    row = None
    while row is None and time.monotonic() < deadline:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT route, model_version, latency_ms, source_ids, cache_hit FROM request_log "
                "WHERE question = 'What is a noun?'"
            ).fetchone()
        time.sleep(0.5)
    assert row is not None
    route, version, latency_ms, source_ids, cache_hit = row
    assert route.endswith("->local") and version.startswith("smollm2-135m-instruct@")
    assert latency_ms > 0 and "english:noun" in source_ids and cache_hit is False


def test_streaming_answers_arrive_as_server_sent_events(tutor: str):
    body = {"question": "What is recursion?", "stream": True}
    url = f"{tutor}/api/v1/ai-tutor/query"
    with httpx.stream("POST", url, json=body, timeout=120, headers=ADMIN) as resp:
        events = [json.loads(line[6:]) for line in resp.iter_lines() if line.startswith("data: ")]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "sources" and kinds[-1] == "done" and "token" in kinds
    assert events[0]["sources"][0]["id"] == "computing:recursion"


# Element questions asked as students do, with the value the element's passage states.
# Two, for CI's time (each is asked twice, streamed and not); tutor eval answers asks 90.
# Both name their field in its own words: "how many protons" is read by the question's
# embedding, which may leave it unverified (docs/PERFORMANCE.md, issue 25).
FACTS = [
    ("What is the atomic number of potassium?", "19"),
    ("what's lutetium's atomic number", "71"),
]


def streamed_answer(tutor: str, question: str) -> tuple[str, list[dict[str, Any]]]:
    """The text a client shows: the streamed tokens, or a `replace` event's text."""
    url = f"{tutor}/api/v1/ai-tutor/query"
    body = {"question": question, "stream": True}
    with httpx.stream("POST", url, json=body, timeout=120, headers=ADMIN) as resp:
        events = [json.loads(line[6:]) for line in resp.iter_lines() if line.startswith("data: ")]
    text = "".join(e["text"] for e in events if e["type"] == "token")
    for event in events:
        if event["type"] == "replace":
            text = event["text"]
    return text, events


def test_answers_are_checked_against_their_source_and_repaired_when_wrong(
    tutor: str, client: httpx.Client, database_url: str
):
    """Whatever the small model says first, the student reads the passage's value, and the
    answer says whether it was repaired; streamed and not streamed alike."""
    verdicts = []
    for question, value in FACTS:
        body = ask(client, question=question).json()
        numbers = numbers_in(re.sub(r"\[\d+\]", " ", body["answer"]))  # not a citation's
        assert value in numbers, (question, body["answer"], body["grounding"])
        assert body["grounding"]["verdict"] in ("supported", "repaired")
        verdicts.append((body["request_id"], body["grounding"]["verdict"]))
        text, events = streamed_answer(tutor, question)
        kinds = [e["type"] for e in events]
        assert kinds[-2:] == ["grounding", "done"] and value in text, (question, text)
        if "replace" in kinds:
            assert events[kinds.index("grounding")]["verdict"] == "repaired"
    deadline = time.monotonic() + 20
    logged: dict[str, str] = {}
    while len(logged) < len(verdicts) and time.monotonic() < deadline:
        with psycopg.connect(database_url) as conn:
            rows = conn.execute(
                "SELECT request_id, grounding FROM request_log WHERE request_id = ANY(%s)",
                ([r for r, _ in verdicts],),
            ).fetchall()
        logged = dict(rows)
        time.sleep(0.5)
    assert logged == dict(verdicts)  # the request log keeps each verdict


def test_a_value_look_up_names_the_entry_holding_it_and_its_label_says_what_happened(
    tutor: str, client: httpx.Client
):
    """Asked by its value, the answer names the element that holds it; "supported" only when
    the model's own words did, "repaired" (with the replacement) when the check wrote them.
    Streamed, it is asked in other words, so that it is answered afresh (or, from the
    semantic cache, replayed with the verdict it was stored with)."""
    body = ask(client, question="Which element has the chemical symbol K?").json()
    assert mentions(body["answer"], "potassium"), body
    assert body["grounding"]["verdict"] in ("supported", "repaired")
    text, events = streamed_answer(tutor, "Which element's symbol is K?")
    said = "".join(e["text"] for e in events if e["type"] == "token")
    verdict = next(e["verdict"] for e in events if e["type"] == "grounding")
    assert mentions(text, "potassium"), text
    if events[-1]["cache"]["hit"]:
        assert verdict == body["grounding"]["verdict"]
    else:
        expected = "supported" if mentions(said, "potassium") else "repaired"
        assert verdict == expected, (said, text)


def test_a_question_the_curriculum_cannot_answer_gets_no_invented_value(
    tutor: str, client: httpx.Client
):
    question = "What is the atomic number of vibranium?"
    body = ask(client, question=question).json()
    assert body["grounding"]["verdict"] == "unverified", body
    assert "does not say" in body["answer"] and not numbers_in(body["answer"]), body
    assert body["sources"], "the closest passages are still given"
    text, events = streamed_answer(tutor, question)
    assert next(e["verdict"] for e in events if e["type"] == "grounding") == "unverified"
    assert "does not say" in text and not numbers_in(text), text


def test_detailed_health_names_every_component(client: httpx.Client):
    report = client.get("/health/detailed").json()
    components = report["components"]
    assert report["status"] == "healthy"
    assert components["session_store"]["backend"] == "redis"
    assert components["database"]["status"] == "healthy"
    assert components["vector_store"]["documents"] == 4137
    assert components["llm:local"]["version"].startswith("smollm2-135m-instruct@")
    assert client.get("/health/ready").json() == {"ready": True, "failing": []}


def test_metrics_count_requests_across_replicas(client: httpx.Client):
    ask(client, question="What is an atom?")
    deadline, text = time.monotonic() + 30, ""
    while "ray_tutor_requests_total" not in text and time.monotonic() < deadline:
        time.sleep(1)
        text = client.get("/metrics").text
    assert 'endpoint="query"' in text and "ray_tutor_request_latency_seconds" in text
    assert "ray_serve_" in text


def test_through_a_redis_outage_answers_continue_and_nothing_is_lost(
    client: httpx.Client, redis_server: RedisServer
):
    before = client.post("/api/v1/ai-tutor/session/start", json={}).json()["session_id"]
    redis_server.stop()
    try:
        # Ready: answers go on with sessions in memory. The outage is named, as degraded.
        assert client.get("/health/ready").json() == {"ready": True, "failing": []}
        detailed = client.get("/health/detailed").json()
        assert detailed["status"] == "degraded"
        assert detailed["components"]["redis"]["status"] == "unhealthy"
        assert detailed["components"]["session_store"]["status"] == "degraded"
        # Known to Redis only: answered, without history, its turns queued for Redis.
        answer = ask(client, question="What is the symbol of gold?", session_id=before)
        assert answer.status_code == 200 and answer.json()["sources"]
        during = client.post("/api/v1/ai-tutor/session/start", json={})
        assert during.status_code == 201
    finally:
        redis_server.start()
    time.sleep(2.5)  # the fallback retries Redis at most every 2 s
    assert client.get("/health/ready").status_code == 200
    client.get(f"/api/v1/ai-tutor/session/{before}")  # any operation writes back
    kept = json.loads(redis_server.client().get(f"tutor:session:{before}"))
    assert [t["content"] for t in kept["turns"]][:1] == ["What is the symbol of gold?"]
    during_id = during.json()["session_id"]
    assert redis_server.client().get(f"tutor:session:{during_id}") is not None


def test_any_openai_client_can_use_the_tutor(tutor: str):
    token = ADMIN["Authorization"].removeprefix("Bearer ")  # the client sends it as a bearer
    client = openai.OpenAI(base_url=f"{tutor}/v1", api_key=token, timeout=120)
    models = {m.id for m in client.models.list().data}
    assert {"tutor", "local"} <= models
    reply = client.chat.completions.create(
        model="tutor",
        messages=[{"role": "user", "content": "What is the atomic number of carbon?"}],
    )
    assert "6" in (reply.choices[0].message.content or "")
    assert reply.model.startswith("smollm2-135m-instruct@") and reply.usage is not None
    stream = client.chat.completions.create(
        model="local", stream=True, messages=[{"role": "user", "content": "Define recursion"}]
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text.strip()
    client.close()


def test_without_an_openai_key_every_class_routes_to_the_local_model(client: httpx.Client):
    assert client.get("/health/detailed").json()["components"]["openai"]["status"] == "disabled"
    answer = ask(client, question="Why does ice float on water?").json()
    assert answer["query_class"] == "complex_reasoning" and answer["route"].endswith("->local")


def test_feedback_is_stored_against_the_answer(client: httpx.Client, database_url: str):
    request_id = ask(client, question="What is a verb?").json()["request_id"]
    response = client.post(
        "/api/v1/ai-tutor/feedback", json={"request_id": request_id, "rating": "up"}
    )
    assert response.status_code == 201, response.text
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT rating FROM feedback WHERE request_id = %s", (request_id,)
        ).fetchone()
    assert row == (1,)
    unknown = client.post(
        "/api/v1/ai-tutor/feedback", json={"request_id": "0" * 32, "rating": "down"}
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["type"] == "unknown_request"


# FOLDOC entries that the demo sample leaves out, asked in a student's words.
FULL_COMPUTING_ANSWERS = {
    "a hypothetical machine with an infinitely long tape, used in computability proofs": (
        "computing:turing_machine"
    ),
    "how is dynamically allocated storage reclaimed while a program runs": (
        "computing:garbage_collection"
    ),
    "the program for calculations in a worksheet of rows and columns of cells": (
        "computing:spreadsheet"
    ),
    "Gordon Moore's observation about memory chip capacity doubling": "computing:moore_s_law",
    "local area network first described by Metcalfe and Boggs of Xerox PARC": "computing:ethernet",
}


def top_ids(client: httpx.Client, query: str, k: int = 5) -> list[str]:
    body = {"query": query, "subject": "computing", "k": k}
    response = client.post("/api/v1/retrieval/search", json=body)
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["results"]]


def test_a_document_published_while_serving_is_found_through_the_graph(
    client: httpx.Client, served_index_dir: Path, tmp_path: Path
):
    """`tutor ingest --upsert` into the served index: the shard replicas pick the new version
    up within their 10 s refresh, and the other shards keep serving meanwhile."""
    query = "a quantum toaster that browns bread in superposition"
    doc = {
        "id": "computing:quantum_toaster",
        "subject": "computing",
        "title": "quantum toaster",
        "text": "A quantum toaster is a hypothetical appliance that browns bread in "
        "superposition until a student observes the slice.",
    }
    corpus = tmp_path / "new.jsonl"
    corpus.write_text(json.dumps(doc) + "\n")
    assert doc["id"] not in top_ids(client, query)
    run_tutor("ingest", str(corpus), "--index-dir", str(served_index_dir), "--upsert", timeout=600)
    deadline = time.monotonic() + 60
    while doc["id"] not in (found := top_ids(client, query, k=1)) and time.monotonic() < deadline:
        time.sleep(2)
    assert found == [doc["id"]]
    question = {"query": "What is the atomic number of carbon?", "k": 1}
    carbon = client.post("/api/v1/retrieval/search", json=question).json()
    assert carbon["results"][0]["id"] == "chemistry:carbon"


# 12,014 documents embedded on CPU: about 8 minutes of CI's 30. `make test-slow` runs it with
# the other whole-corpus tests; the test above publishes while serving at demo size in CI.
@pytest.mark.slow
def test_the_whole_computing_corpus_published_while_serving_answers_through_the_graph(
    client: httpx.Client, served_index_dir: Path
):
    # Last in the module: it replaces the computing shard the other tests searched.
    corpus = shared_corpus("computing")
    if corpus is None:
        pytest.skip("the shared computing corpus is not here (set TUTOR_SHARED_CORPORA)")
    before = {query: top_ids(client, query) for query in FULL_COMPUTING_ANSWERS}
    assert not any(gold in before[q] for q, gold in FULL_COMPUTING_ANSWERS.items())

    run_tutor("ingest", str(corpus), "--index-dir", str(served_index_dir), timeout=1800)
    manifest = ShardStore(served_index_dir).current_manifest("computing")
    assert manifest.documents == 12014

    deadline = time.monotonic() + 120  # each shard replica looks for a new version every 10 s
    while True:
        health = client.get("/health/detailed").json()["components"]["vector_store"]
        served = health["shards"]["computing"].get("version")
        after = {query: top_ids(client, query) for query in FULL_COMPUTING_ANSWERS}
        missed = {q: ids for q, ids in after.items() if FULL_COMPUTING_ANSWERS[q] not in ids}
        if (served == manifest.version_name and not missed) or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert served == manifest.version_name
    assert not missed, missed
    question = {"query": "What is the atomic number of carbon?", "k": 1}
    carbon = client.post("/api/v1/retrieval/search", json=question).json()
    assert carbon["results"][0]["id"] == "chemistry:carbon"  # the other shards kept serving


def test_a_practice_item_is_made_from_a_passage_checked_and_counted_in_progress(tutor: str):
    """Through the graph, with a student's token: the item (the key kept back), streamed and
    not; the check; the progress in PostgreSQL; her session in her list and her teacher's."""
    keys = {q: key for q, key in practice_keys().items() if q.endswith(" of potassium?")}
    pia, other = (
        bearer("pia", "student", ("5c",), data_dir=DATA_DIR),
        bearer("pax", data_dir=DATA_DIR),
    )
    teacher = bearer("mr-eze", "teacher", ("5c",), data_dir=DATA_DIR)
    with httpx.Client(base_url=tutor, timeout=120, headers=pia) as http:
        sid = http.post("/api/v1/ai-tutor/session/start", json={}).json()["session_id"]
        quiz = {"question": "Quiz me on potassium", "session_id": sid}
        first = http.post("/api/v1/ai-tutor/query", json=quiz)
        assert first.status_code == 200, first.text
        item = first.json()["practice"]
        assert first.json()["route"] == "practice-item" and item["question"] in keys
        url = f"{tutor}/api/v1/ai-tutor/query"
        body = {"question": "test me on potassium", "stream": True}
        with httpx.stream("POST", url, json=body, timeout=120, headers=pia) as resp:
            events = [json.loads(ln[6:]) for ln in resp.iter_lines() if ln.startswith("data: ")]
        assert [e["type"] for e in events] == ["sources", "token", "practice", "done"]
        streamed = events[2]["item"]
        check = "/api/v1/ai-tutor/practice/check"
        stolen = {"item_id": item["item_id"], "answer": keys[item["question"]]}
        assert http.post(check, json=stolen, headers=other).status_code == 404
        wrong = http.post(check, json={"item_id": item["item_id"], "answer": "no idea"}).json()
        assert wrong["correct"] is False and wrong["answer"] == keys[item["question"]]
        assert wrong["explanation"]["id"] == "chemistry:potassium"
        right_answer = keys[streamed["question"]]
        right = http.post(check, json={"item_id": streamed["item_id"], "answer": right_answer})
        assert right.json()["correct"] is True, right.json()
        progress = http.get("/api/v1/users/pia").json()["progress"]["practice"]
        assert progress["subjects"]["chemistry"] == {"answered": 2, "correct": 1}
        deadline, listed, seen = time.monotonic() + 20, [], {}
        while time.monotonic() < deadline:  # the request log is written off the request path
            listed = http.get("/api/v1/ai-tutor/sessions").json()["sessions"]
            seen = http.get("/api/v1/teacher/overview", headers=teacher).json()
            if listed and seen["sessions"]:
                break
            time.sleep(0.5)
        assert http.get("/api/v1/teacher/overview").status_code == 403  # a student's token
    assert listed[0]["session_id"] == sid and listed[0]["questions"] == ["Quiz me on potassium"]
    assert [s["session_id"] for s in seen["sessions"]] == [sid]
    assert [s["user_id"] for s in seen["students"]] == ["pia"]


def test_a_student_needs_a_token_and_sees_only_their_own(tutor: str):
    """Tokens through the deployed graph: the ingress replicas verify them themselves."""
    amina = bearer("amina", "student", ("7b",), data_dir=DATA_DIR)
    bilal = bearer("bilal", data_dir=DATA_DIR)
    her_teacher = bearer("ms-ade", "teacher", ("7b",), data_dir=DATA_DIR)
    another_teacher = bearer("mr-obi", "teacher", ("9a",), data_dir=DATA_DIR)
    with httpx.Client(base_url=tutor, timeout=120) as http:
        assert http.post("/api/v1/ai-tutor/session/start", json={}).status_code == 401
        started = http.post("/api/v1/ai-tutor/session/start", json={}, headers=amina)
        assert started.status_code == 201
        own = f"/api/v1/ai-tutor/session/{started.json()['session_id']}"
        assert http.get(own, headers=amina).status_code == 200
        assert http.get(own, headers=bilal).status_code == 403
        assert http.get(own, headers=her_teacher).status_code == 200
        assert http.get(own, headers=another_teacher).status_code == 403
        # Her profile, in PostgreSQL with the class her token names: her teacher reads it;
        # to anyone else it does not exist (user ids are guessable).
        profile = {"class_level": 7, "subjects": ["chemistry"]}
        assert http.put("/api/v1/users/amina", json=profile, headers=amina).status_code == 200
        assert http.put("/api/v1/users/amina", json=profile, headers=bilal).status_code == 403
        read = http.get("/api/v1/users/amina", headers=her_teacher)
        assert read.status_code == 200 and read.json()["classes"] == ["7b"]
        assert http.get("/api/v1/users/amina", headers=another_teacher).status_code == 404
        assert http.get("/api/v1/users/amina", headers=bilal).status_code == 404
        assert http.get("/metrics", headers=amina).status_code == 403
        assert http.get("/health/live").status_code == 200


def page_token(user_id: str, role: str = "student", classes: tuple[str, ...] = ()) -> str:
    return bearer(user_id, role, classes, data_dir=DATA_DIR)["Authorization"].removeprefix(
        "Bearer "
    )


def test_a_student_uses_the_page_through_the_graph(tutor: str):
    """The page served by the Serve ingress, in Chromium, answered by the local model: tokens
    arrive one by one, the sources open to their passages, a follow-up stays in the session,
    a rating and a practice item are recorded, and markup in a question stays text."""
    page_response = httpx.get(f"{tutor}/", timeout=30)
    assert "script-src 'self'" in page_response.headers["content-security-policy"]
    with chromium() as browser:
        tab = TutorPage(browser, tutor, timeout_s=30).open()
        tab.sign_in(page_token("pat", classes=("8g",)))
        # A question no other test asks: answered by the model, not replayed from the cache.
        turn = tab.ask("What is the atomic number of nitrogen?", timeout_s=180)
        assert len({n for n in tab.streamed() if n > 0}) >= 3, tab.streamed()
        assert "7" in turn.get_by_test_id("answer-text").inner_text()
        verdict = turn.get_by_test_id("verdict").inner_text()
        assert verdict.startswith(("Checked against", "Corrected to match")), verdict
        assert texts(turn.locator(".source-list summary"))[0] == "[1] nitrogen chemistry"
        turn.locator(".source-list summary").first.click()
        assert "Atomic number: 7" in turn.locator(".passage").first.inner_text()

        follow_up = tab.ask("And what is its symbol?", timeout_s=180)
        assert texts(follow_up.locator(".source-list summary"))[0] == "[1] nitrogen chemistry"
        follow_up.get_by_role("button", name="Not helpful").click()
        rated = follow_up.get_by_role("status").first
        rated.filter(has_text="Thanks: your rating was recorded.").wait_for()

        follow_up.get_by_role("button", name="Practice this topic").click()
        quiz = tab.turns().last
        finished(quiz, 60)
        form = quiz.locator("form.practice")
        answer_practice(form, answer_key(form.locator("legend").inner_text()))
        form.get_by_test_id("practice-result").filter(has_text="Correct!").wait_for()

        question = "<img src=x onerror=alert(1)> what is argon?"
        marked = tab.ask(question, timeout_s=180)
        assert marked.locator(".question p").inner_text() == question
        assert tab.page.locator("main img").count() == 0
        assert not tab.problems, tab.problems
        tab.close()


def test_a_student_over_the_burst_limit_is_told_on_the_page_when_to_ask_again(tutor: str):
    """The ingress's real quota (20 questions a minute for a student, counted in Redis): once
    her API calls have used it, the page says when she can ask again, not an error dump."""
    while datetime.now(UTC).second > 40:  # the count is per UTC minute: use it in one
        time.sleep(1)
    token = page_token("uma", classes=("8g",))
    # Counted when admitted, before the subject is checked: twenty quick 422s use the minute.
    question = {"question": "What is astrology?", "subject": "astrology"}
    with httpx.Client(
        base_url=tutor, timeout=60, headers={"Authorization": f"Bearer {token}"}
    ) as h:
        statuses = [h.post("/api/v1/ai-tutor/query", json=question).status_code for _ in range(21)]
    assert statuses[-1] == 429 and statuses.count(422) == 20, statuses
    with chromium() as browser:
        tab = TutorPage(browser, tutor, timeout_s=30).open()
        tab.sign_in(token)
        tab.page.get_by_label("Your question").fill("What is the symbol of gold?")
        tab.page.get_by_label("Your question").press("Enter")
        status = tab.page.locator("#ask-status")
        status.filter(has_text="You have reached your limit of questions a minute.").wait_for()
        assert re.search(r"You can ask again at .+ \(in \d+ seconds\)", status.inner_text())
        assert "quota_exceeded" not in tab.page.locator("main").inner_text()
        tab.close()


def test_a_teacher_sees_her_students_session_on_the_page_through_the_graph(tutor: str):
    """A student of 8h asks and rates an answer down (through the API); her teacher's page
    lists her, her session and the answer to look at, and opens the session from Redis."""
    with httpx.Client(
        base_url=tutor, timeout=180, headers=bearer("quin", "student", ("8h",), data_dir=DATA_DIR)
    ) as http:
        sid = http.post("/api/v1/ai-tutor/session/start", json={}).json()["session_id"]
        asked = http.post(
            "/api/v1/ai-tutor/query", json={"question": "What is a noun?", "session_id": sid}
        )
        assert asked.status_code == 200, asked.text
        rated = {"request_id": asked.json()["request_id"], "rating": "down"}
        assert http.post("/api/v1/ai-tutor/feedback", json=rated).status_code == 201
    with chromium() as browser:
        tab = TutorPage(browser, tutor, timeout_s=30).open()
        tab.sign_in(page_token("mr-ray", "teacher", ("8h",)))
        overview = tab.page.locator("#overview")
        deadline = time.monotonic() + 20  # the request log is written off the request path
        while "Rated down" not in overview.inner_text() and time.monotonic() < deadline:
            time.sleep(0.5)
            tab.view("My classes")
            overview.locator("h3").first.wait_for()
        assert texts(overview.get_by_role("region", name="Students").locator(".card-title")) == [
            "quin"
        ]
        flagged = overview.get_by_role("region", name="Answers to look at").inner_text()
        assert "Rated down by the student" in flagged and "What is a noun?" in flagged
        overview.get_by_role("button", name=re.compile("Open the session of quin")).click()
        transcript = tab.page.get_by_role("region", name="Session of quin")
        transcript.locator(".line-user").first.wait_for()  # read from Redis on the click
        assert texts(transcript.locator(".line-user p")) == ["What is a noun?"]
        assert transcript.locator(".line-assistant p").inner_text().strip()
        assert not tab.problems, tab.problems
        tab.close()


def test_every_operation_fuzzed_answers_no_5xx_and_only_documented_statuses(tutor: str):
    """schemathesis (`--checks all`) against the deployed graph, with an admin's token; bounded
    (its examples and fuzzing phases, 5 examples an operation) to stay within CI's budget.
    Excluded, with reasons:
    - `positive_data_acceptance` expects every schema-valid request to succeed, while the API
      also checks meaning (a subject must exist, a chat must end with the user's message),
      answering 422 or 404 as documented;
    - `unsupported_method` and `allow_header_conformance`: the seed's paths put `GET
      /session/{session_id}` beside `POST /session/start` and `/session/end`, so `GET
      /session/start` is a 422 naming a malformed session id, not a 405, and `Allow` there
      lists GET too."""
    token = ADMIN["Authorization"]
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{tutor}/openapi.json",
        "--checks=all",
        "--exclude-checks=positive_data_acceptance,unsupported_method,allow_header_conformance",
        "--phases=examples,fuzzing",
        "--max-examples=5",
        "--seed=1",
        "--request-timeout=120",
        "--max-response-time=120",  # a CPU model's answer takes seconds; the proxy allows 120
        f"--header=Authorization: {token}",
        "--no-color",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-6000:]
