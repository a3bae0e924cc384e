"""Graph nodes seen through their deployment handles, as the plain protocols the logic expects."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from ray.serve.handle import DeploymentHandle

from cluster.observability.health import Probe
from retrieval.embedder import Vectors
from retrieval.fanout import FanoutSearch, ShardSearch
from retrieval.shard import ShardCandidates


def shard_search(handle: DeploymentHandle) -> ShardSearch:
    def search(
        vector: Vectors | None, keywords: str, k_dense: int, k_keyword: int
    ) -> Awaitable[ShardCandidates]:
        result: Awaitable[ShardCandidates] = handle.candidates.remote(
            vector, keywords, k_dense, k_keyword
        )
        return result

    return search


def fanout_search(
    embedder: DeploymentHandle,
    shards: dict[str, DeploymentHandle],
    reranker: DeploymentHandle | None,
) -> FanoutSearch:
    """Search over the embedder, shard and reranker nodes (the router's and the ingress's)."""
    return FanoutSearch(
        embed=lambda text: embedder.embed.remote(text),
        shards={subject: shard_search(h) for subject, h in shards.items()},
        rerank=(lambda pairs: reranker.score.remote(pairs)) if reranker else None,
    )


def health_probe(handle: DeploymentHandle) -> Probe:
    async def probe() -> dict[str, Any]:
        report: dict[str, Any] = await handle.health.remote()
        return report

    return probe
