"""Graph nodes seen through their deployment handles, as the plain protocols the logic expects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ray.exceptions import ActorUnavailableError, RayActorError
from ray.serve.exceptions import RayServeException
from ray.serve.handle import DeploymentHandle
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from cluster.observability.health import Probe
from retrieval.embedder import Vectors
from retrieval.fanout import FanoutSearch, ShardSearch
from retrieval.shard import ShardCandidates

# What a handle call raises when the replica serving it died, restarted or could not be
# reached: the node's failure, not the request's. Callers turn it into their own errors.
REPLICA_LOST: tuple[type[Exception], ...] = (
    RayActorError,
    ActorUnavailableError,
    RayServeException,
)


T = TypeVar("T")


async def again_if_lost(call: Callable[[], Awaitable[T]], attempts: int = 3) -> T:
    """A short call to a node, made again when the replica serving it was lost: Serve routes
    the next try to another replica, or to the one it started in its place (within seconds)."""
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(REPLICA_LOST),
        wait=wait_exponential(multiplier=0.25, max=2.0),
        stop=stop_after_attempt(attempts),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await call()
    raise AssertionError("unreachable: tenacity reraises the last error")


def shard_search(handle: DeploymentHandle) -> ShardSearch:
    async def search(
        vector: Vectors | None, keywords: str, k_dense: int, k_keyword: int
    ) -> ShardCandidates:
        async def once() -> ShardCandidates:
            found: ShardCandidates = await handle.candidates.remote(
                vector, keywords, k_dense, k_keyword
            )
            return found

        return await again_if_lost(once)

    return search


def fanout_search(
    embedder: DeploymentHandle,
    shards: dict[str, DeploymentHandle],
    reranker: DeploymentHandle | None,
) -> FanoutSearch:
    """Search over the embedder, shard and reranker nodes (the router's and the ingress's)."""

    async def embed(text: str) -> Vectors:
        return await again_if_lost(lambda: embedder.embed.remote(text))

    async def rerank(pairs: list[tuple[str, str]]) -> list[float]:
        assert reranker is not None
        return await again_if_lost(lambda: reranker.score.remote(pairs))

    return FanoutSearch(
        embed=embed,
        shards={subject: shard_search(h) for subject, h in shards.items()},
        rerank=rerank if reranker else None,
    )


def health_probe(handle: DeploymentHandle) -> Probe:
    async def probe() -> dict[str, Any]:
        report: dict[str, Any] = await handle.health.remote()
        return report

    return probe
