"""Model backends over real HTTP with the official `openai` client: vLLM's own OpenAI server on
the local model for the happy path, the project's fault-injecting server for every failure,
and circuit breakers shared by two routers through the real Redis."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from graphs.single_process import local_router
from models.backend import ChatMessage, GenerationRequest, complete
from models.breaker import BreakerConfig, CircuitBreakers, RedisBreakerStore
from models.openai_backend import OpenAIBackend
from retrieval.corpus import Document
from retrieval.dense import DenseIndexParams
from retrieval.ingest import build_shard
from service.router import QueryPlan, RouterConfig, TutorRouter
from tests.conftest import ROOT
from tests.fakes.hashing_embedder import HashingEmbedder
from tests.fakes.openai_server import FaultServer
from tests.integration import vllm_server as vllm

pytestmark = pytest.mark.integration
MODEL_DIR = (
    Path(os.environ.get("DATA_DIR", ROOT / "var")).resolve() / "models/smollm2-135m-instruct"
)
QUESTION = [ChatMessage("user", "What is the atomic number of carbon?")]
CHAIN = {
    "routes": {
        c: ["fast", "backup"]
        for c in ("simple_factual", "complex_reasoning", "curriculum", "practice")
    },
    "default": ["fast", "backup"],
}


@pytest.fixture(scope="module")
def vllm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """vLLM's own OpenAI-compatible server on the prepared SmolLM2 (CPU build)."""
    log = tmp_path_factory.mktemp("vllm") / "server.log"
    server, base_url = vllm.start(MODEL_DIR, log)
    try:
        vllm.wait_until_serving(base_url, server, log)
        yield base_url
    finally:
        vllm.stop(server)


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[..., OpenAIBackend]]:
    """OpenAI backends closed after the test, so no connection outlives it."""
    made: list[OpenAIBackend] = []

    def make(server: FaultServer, timeout_s: float = 30.0) -> OpenAIBackend:
        made.append(OpenAIBackend(server.model, "k", server.base_url, timeout_s=timeout_s))
        return made[-1]

    yield make
    for backend in made:
        await backend.close()


@pytest.fixture
def fault() -> Iterator[FaultServer]:
    server = FaultServer("fake-fast").start()
    yield server
    server.stop()


@pytest.fixture
def backup() -> Iterator[FaultServer]:
    server = FaultServer("fake-backup").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shards(chemistry_docs: list[dict[str, str]]) -> dict[str, Any]:
    docs = [Document.model_validate(d) for d in chemistry_docs]
    return {
        "chemistry": build_shard(
            "chemistry", docs, HashingEmbedder(), DenseIndexParams(), show_progress=False
        )
    }


def router_for(shards: dict[str, Any], backends: dict[str, Any], **config: Any) -> TutorRouter:
    settings = RouterConfig.model_validate(
        {
            "policy": CHAIN,
            "retry": {"initial_backoff_s": 0.01, "first_token_timeout_s": 2},
            **config,
        }
    )
    return local_router(HashingEmbedder(), shards, backends, config=settings)


async def answer(router: TutorRouter, question: str = "atomic number of carbon") -> dict[str, Any]:
    plan = QueryPlan(question=question, request_id="r1")
    events = [e.model_dump() async for e in router.answer(plan)]  # as a client reads them
    done = next((e for e in events if e["type"] == "done"), {})
    errors = [e for e in events if e["type"] == "error"]
    text = "".join(e["text"] for e in events if e["type"] == "token")
    return {"done": done, "errors": errors, "text": text}


async def test_the_openai_backend_streams_from_vllms_own_server(vllm_server: str):
    backend = OpenAIBackend("smollm2", "unused", vllm_server)
    text, last = await complete(backend, GenerationRequest(QUESTION, max_tokens=40))
    assert text.strip() and last.finish_reason in ("stop", "length")
    assert last.prompt_tokens > 0 and last.completion_tokens > 0
    await backend.close()


async def test_a_429_is_retried_after_its_retry_after(shards, fault: FaultServer, client_for):
    fault.set(mode="rate_limit", retry_after_s=0.5, fail_first=1)
    router = router_for(shards, {"fast": client_for(fault)})
    start = time.monotonic()
    result = await answer(router)
    assert result["done"]["backend"] == "fast" and "Atomic number: 6" in result["text"]
    assert fault.faults.calls == 2 and time.monotonic() - start >= 0.5
    assert result["done"]["attempts"][0]["retries"] == 1


async def test_a_failing_backend_falls_back_to_the_next_in_the_chain(
    shards, fault: FaultServer, backup: FaultServer, client_for
):
    fault.set(mode="error")
    router = router_for(shards, {"fast": client_for(fault), "backup": client_for(backup)})
    result = await answer(router)
    assert result["done"]["backend"] == "backup" and result["done"]["fallbacks"] == 1
    assert fault.faults.calls == 3  # the primary got its retries before the fallback


async def test_a_hanging_backend_times_out_and_falls_back(
    shards, fault: FaultServer, backup: FaultServer, client_for
):
    fault.set(mode="hang")
    backends = {"fast": client_for(fault, timeout_s=0.5), "backup": client_for(backup)}
    router = router_for(shards, backends, retry={"max_attempts": 1})
    result = await answer(router)
    assert result["done"]["backend"] == "backup"
    assert "Timeout" in result["done"]["attempts"][0]["error"]


async def test_a_stream_dropped_after_tokens_ends_in_an_error_event(shards, fault, client_for):
    fault.set(mode="drop", drop_after_tokens=3)
    router = router_for(shards, {"fast": client_for(fault)})
    result = await answer(router)
    assert result["text"] and result["errors"]
    assert result["errors"][0]["error"]["type"] == "stream_interrupted" and not result["done"]


async def test_with_every_backend_down_the_answer_degrades_to_sources(shards, fault, client_for):
    fault.set(mode="error")
    router = router_for(shards, {"fast": client_for(fault)})
    result = await answer(router)
    assert result["done"]["status"] == "degraded" and not result["text"]


async def test_one_routers_open_breaker_protects_another_through_redis(
    shards, fault: FaultServer, redis_url: str, client_for
):
    fault.set(mode="error")
    prefix = f"test:breaker:{uuid.uuid4().hex}:"
    clients = [aioredis.Redis.from_url(redis_url) for _ in range(2)]
    config = BreakerConfig(failure_threshold=2, open_s=60)
    routers = []
    for client in clients:
        router = router_for(shards, {"fast": client_for(fault)}, retry={"max_attempts": 1})
        router.breakers = CircuitBreakers(RedisBreakerStore(client, prefix), config)
        routers.append(router)
    for _ in range(2):
        await answer(routers[0])  # two failures: replica one opens the breaker
    calls_before = fault.faults.calls
    result = await answer(routers[1])
    assert fault.faults.calls == calls_before  # replica two never called the failing upstream
    assert result["done"]["attempts"] == [
        {"backend": "fast", "outcome": "skipped_open", "error": "", "retries": 0}
    ]
    assert await routers[1].breaker_states() == {"fast": "open"}
    for client in clients:
        await client.aclose()
