"""The same tutor code wired in one process, without Ray: for the single-process baseline
(benchmarks/graph_overhead.py), unit tests, and debugging a change outside the cluster."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from fastapi import FastAPI

from cluster.observability import health
from cluster.observability.metrics import PrometheusExporter, TutorMetrics
from cluster.storage.db import RequestLog, Users
from conversation.context import TokenCounter, approximate_counter
from conversation.sessions import MemorySessionStore, SessionStore
from deployments.api import build_api
from deployments.api_access import AccessControl
from models.backend import LLMBackend
from models.breaker import CircuitBreakers, MemoryBreakerStore
from models.generation import LLMClient
from practice.store import MemoryPracticeStore
from response_cache.stores import ResponseCache
from retrieval.embedder import Embedder, Vectors
from retrieval.fanout import FanoutSearch, ShardSearch
from retrieval.reranker import Reranker
from retrieval.shard import Shard, ShardCandidates
from service.practice import Practice
from service.router import RouterConfig, TutorRouter
from service.tutor_service import TutorService


def local_shard(shard: Shard) -> ShardSearch:
    async def search(
        vector: Vectors | None, keywords: str, k_dense: int, k_keyword: int
    ) -> ShardCandidates:
        return shard.candidates(vector, keywords, k_dense, k_keyword)

    return search


def local_search(
    embedder: Embedder, shards: dict[str, Shard], reranker: Reranker | None = None
) -> FanoutSearch:
    async def embed(text: str) -> Vectors:
        vectors: Vectors = await asyncio.to_thread(embedder.embed, [text])
        return vectors[0]

    def rerank(pairs: list[tuple[str, str]]) -> Awaitable[list[float]]:
        assert reranker is not None
        return asyncio.to_thread(reranker.score, pairs)

    local_shards = {subject: local_shard(shard) for subject, shard in shards.items()}
    return FanoutSearch(embed, local_shards, rerank if reranker is not None else None)


def local_router(
    embedder: Embedder,
    shards: dict[str, Shard],
    llms: dict[str, LLMBackend],
    reranker: Reranker | None = None,
    config: RouterConfig | None = None,
    metrics: TutorMetrics | None = None,
    cache: ResponseCache | None = None,
) -> TutorRouter:
    config = config or RouterConfig()
    metrics = metrics or TutorMetrics(PrometheusExporter())
    breakers = CircuitBreakers(MemoryBreakerStore(), config.breaker)
    clients: dict[str, LLMClient] = dict(llms)
    search = local_search(embedder, shards, reranker)
    return TutorRouter(search, clients, breakers, config, observer=metrics, cache=cache)


def local_api(
    router: TutorRouter,
    sessions: SessionStore | None = None,
    access: AccessControl | None = None,
    users: Users | None = None,
    request_log: RequestLog | None = None,
    count_tokens: TokenCounter = approximate_counter,
) -> tuple[FastAPI, TutorService]:
    """The API over `router`, recording into the same metrics the router records into; with
    `users` and `request_log` (PostgreSQL) it does what the graph's ingress does per question
    (benchmarks/load/ compares the two)."""
    metrics = router.observer
    assert isinstance(metrics, TutorMetrics) and isinstance(metrics.exporter, PrometheusExporter)
    practice = Practice(MemoryPracticeStore(ttl_s=86_400), router.search, users)
    sessions = sessions or MemorySessionStore(ttl_s=3600)
    service = TutorService(
        router,
        sessions,
        users,
        request_log,
        metrics,
        count_tokens=count_tokens,
        practice=practice,
    )

    async def report() -> dict[str, object]:
        components: dict[str, dict[str, object]] = {
            "session_store": {"status": "healthy", "backend": "memory"}
        }
        for name, llm in router.llms.items():  # as the graph's LLM nodes report themselves
            info = await llm.describe()
            components[f"llm:{name}"] = {
                "status": "healthy",
                "backend": info.backend,
                "model": info.model,
                "version": info.version,
            }
        return health.report_of(components)

    return build_api(service, report, metrics.exporter.text, access), service
