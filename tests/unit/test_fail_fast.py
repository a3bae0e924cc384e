"""A dead or hanging model tier costs its own timeout, then the next backend answers; a replica
that proxies a remote API stays live while the API is down."""

from __future__ import annotations

import asyncio
import time

import pytest

from graphs.single_process import local_router
from models.errors import BackendUnavailable
from models.events import DoneEvent, TokenEvent
from models.openai_backend import OpenAIBackend
from retrieval.corpus import Document
from retrieval.dense import DenseIndexParams
from retrieval.ingest import build_shard
from service.router import QueryPlan, RouterConfig, TutorRouter
from tests.fakes.hashing_embedder import HashingEmbedder
from tests.fakes.llm import EchoSourceBackend
from tests.fakes.openai_server import free_port

CHAIN = {"routes": {"simple_factual": ["remote", "local"]}, "default": ["local"]}


@pytest.fixture(scope="module")
def shards(chemistry_docs):
    docs = [Document.model_validate(d) for d in chemistry_docs]
    return {
        "chemistry": build_shard("chemistry", docs, HashingEmbedder(), DenseIndexParams(), False)
    }


async def answer(router: TutorRouter) -> tuple[DoneEvent, str]:
    events = [e async for e in router.answer(QueryPlan("atomic number of carbon", request_id="r"))]
    done = events[-1]
    assert isinstance(done, DoneEvent)
    return done, "".join(e.text for e in events if isinstance(e, TokenEvent))


async def test_a_hanging_tier_costs_its_own_first_token_timeout_then_the_next_answers(shards):
    config = RouterConfig.model_validate(
        {
            "policy": CHAIN,
            "retry": {"first_token_timeout_s": 20},  # the default for every other backend
            "backend_calls": {"remote": {"first_token_timeout_s": 0.3, "max_attempts": 1}},
        }
    )
    llms = {"remote": EchoSourceBackend(fail="hang"), "local": EchoSourceBackend()}
    done, text = await answer(local_router(HashingEmbedder(), shards, llms, config=config))
    assert done.status == "ok" and done.backend == "local" and "carbon" in text.lower()
    assert done.attempts[0].backend == "remote" and "Timeout" in done.attempts[0].error
    # Generation (both backends) took the remote's 0.3 s, not the general 20 s.
    assert done.timings_ms["generate"] < 2000


async def test_without_an_override_a_backend_keeps_the_routers_retry_policy(shards):
    config = RouterConfig.model_validate(
        {
            "policy": CHAIN,
            "retry": {"initial_backoff_s": 0.01, "max_attempts": 2},
            "backend_calls": {"other": {"max_attempts": 1}},
        }
    )
    remote = EchoSourceBackend(fail="before")
    llms = {"remote": remote, "local": EchoSourceBackend()}
    done, _ = await answer(local_router(HashingEmbedder(), shards, llms, config=config))
    assert done.backend == "local" and len(remote.requests) == 2


def test_an_override_changes_only_the_fields_it_names():
    config = RouterConfig.model_validate(
        {"retry": {"max_attempts": 4}, "backend_calls": {"remote": {"first_token_timeout_s": 2}}}
    )
    merged = config.backend_calls["remote"].over(config.retry)
    assert merged.max_attempts == 4 and merged.first_token_timeout_s == 2


async def test_an_openai_replica_is_live_while_its_upstream_is_unreachable():
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    backend = OpenAIBackend("gpt-4o-mini", "sk-test", dead, timeout_s=30, connect_timeout_s=1)
    await backend.check()  # Serve's health check and reconfigure: no upstream call
    start = time.monotonic()
    with pytest.raises(BackendUnavailable):
        await backend.probe()  # /health/detailed asks the upstream, and reports it down
    assert time.monotonic() - start < 5
    await backend.close()


async def test_an_open_tier_is_probed_beside_the_questions_never_by_them(shards):
    config = RouterConfig.model_validate(
        {
            "policy": CHAIN,
            "breaker": {"failure_threshold": 1, "open_s": 0.2},
            "backend_calls": {"remote": {"first_token_timeout_s": 1.0, "max_attempts": 1}},
        }
    )
    remote = EchoSourceBackend(fail="hang")
    llms = {"remote": remote, "local": EchoSourceBackend()}
    router = local_router(HashingEmbedder(), shards, llms, config=config)
    await answer(router)  # waits the 1 s timeout once: the breaker opens
    await asyncio.sleep(0.3)  # past open_s: a probe is due
    start = time.perf_counter()
    done, _ = await answer(router)
    assert time.perf_counter() - start < 0.8  # the question did not wait on the hanging tier
    assert done.backend == "local" and done.attempts[0].outcome == "skipped_open"
    await router.wait_for_probes()  # the probe beside it hung for 1 s: the breaker reopens
    assert (await router.breaker_states())["remote"] == "open"
    remote.fail = None  # the tier recovers
    await asyncio.sleep(0.3)
    await answer(router)  # still local; the probe beside it gets a token
    await router.wait_for_probes()
    done, _ = await answer(router)
    assert done.backend == "remote"
