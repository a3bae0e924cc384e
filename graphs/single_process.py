"""The same tutor code wired in one process, without Ray: for the single-process baseline
(benchmarks/graph_overhead.py), unit tests, and debugging a change outside the cluster."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from fastapi import FastAPI

from cluster import health
from cluster.metrics import PrometheusMetrics
from cluster.service import TutorService
from cluster.sessions import MemorySessionStore, SessionStore
from deployments.api import build_api
from models.backend import LLMBackend
from models.router import LLMClient, RouterConfig, ShardSearch, TutorRouter
from retrieval.embedder import Embedder, Vectors
from retrieval.reranker import Reranker
from retrieval.shard import Shard, ShardCandidates


def local_shard(shard: Shard) -> ShardSearch:
    async def search(
        vector: Vectors | None, keywords: str, k_dense: int, k_keyword: int
    ) -> ShardCandidates:
        return shard.candidates(vector, keywords, k_dense, k_keyword)

    return search


def local_router(
    embedder: Embedder,
    shards: dict[str, Shard],
    llms: dict[str, LLMBackend],
    reranker: Reranker | None = None,
    config: RouterConfig | None = None,
) -> TutorRouter:
    async def embed(text: str) -> Vectors:
        vectors: Vectors = await asyncio.to_thread(embedder.embed, [text])
        return vectors[0]

    def rerank(pairs: list[tuple[str, str]]) -> Awaitable[list[float]]:
        assert reranker is not None
        return asyncio.to_thread(reranker.score, pairs)

    clients: dict[str, LLMClient] = dict(llms)
    return TutorRouter(
        embed=embed,
        shards={subject: local_shard(shard) for subject, shard in shards.items()},
        rerank=rerank if reranker is not None else None,
        llms=clients,
        config=config,
    )


def local_api(
    router: TutorRouter, sessions: SessionStore | None = None
) -> tuple[FastAPI, TutorService]:
    metrics = PrometheusMetrics()
    service = TutorService(router, sessions or MemorySessionStore(ttl_s=3600), metrics=metrics)

    async def report() -> dict[str, object]:
        return health.report_of({"session_store": {"status": "healthy", "backend": "memory"}})

    return build_api(service, report, metrics.text), service
