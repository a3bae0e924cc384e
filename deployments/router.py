"""Graph node: the router, holding `service.router.TutorRouter` over deployment handles."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace
from typing import Any

import redis.asyncio as aioredis
from ray.serve.handle import DeploymentHandle, DeploymentResponseGenerator

from cluster.observability.health import Probe, check_all
from cluster.observability.metrics import TutorMetrics
from cluster.redis_client import configured_redis
from cluster.settings import get_settings
from deployments.handles import REPLICA_LOST, fanout_search, health_probe
from deployments.logs import route_app_logs
from deployments.ray_metrics import RayExporter
from deployments.stream_batches import items_of, sent_as_asked
from models.backend import GenerationChunk, GenerationRequest, ModelInfo
from models.breaker import (
    STATE_CODE,
    BreakerConfig,
    BreakerStore,
    CircuitBreakers,
    MemoryBreakerStore,
    RedisBreakerStore,
)
from models.errors import BackendUnavailable, StreamInterrupted
from models.events import AnswerEvent
from response_cache.stores import MemoryResponseCache, RedisResponseCache, ResponseCache
from service.router import QueryPlan, RouterConfig, TutorRouter


class HandleLLM:
    """An LLM deployment seen through its handle, as `service.router.LLMClient`."""

    def __init__(self, name: str, handle: DeploymentHandle) -> None:
        self._name = name
        self._handle = handle
        # Configured once and kept: each .options() call builds a new handle.
        self._streaming = handle.options(stream=True)

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        """The node's stream; a replica lost before the first chunk is `BackendUnavailable`
        (the chain tries the next backend), after it `StreamInterrupted`."""
        # A stream=True handle call returns a DeploymentResponseGenerator.
        asked = replace(request, batched_stream=True)
        chunks: DeploymentResponseGenerator = self._streaming.stream.remote(asked)  # type: ignore[assignment]
        sent, finished = 0, False
        try:
            async for message in chunks:
                for chunk in items_of(message):
                    sent += 1
                    yield chunk
            finished = True
        except REPLICA_LOST as error:
            lost = f"the {self._name} replica was lost: {type(error).__name__}"
            if sent == 0:
                raise BackendUnavailable(lost) from error
            raise StreamInterrupted(lost, sent) from error
        finally:
            if not finished:
                chunks.cancel()  # closed early: the node aborts the generation

    def describe(self) -> Awaitable[ModelInfo]:
        info: Awaitable[ModelInfo] = self._handle.describe.remote()
        return info


def breaker_store(client: aioredis.Redis | None) -> BreakerStore:
    """Shared by every router replica through Redis; per replica without it."""
    return MemoryBreakerStore() if client is None else RedisBreakerStore(client)


def response_cache(client: aioredis.Redis | None) -> ResponseCache:
    """Shared by every router replica through Redis; per replica without it."""
    return MemoryResponseCache() if client is None else RedisResponseCache(client)


class RouterServer:
    def __init__(
        self,
        embedder: DeploymentHandle,
        shards: dict[str, DeploymentHandle],
        reranker: DeploymentHandle | None,
        llms: dict[str, DeploymentHandle],
    ) -> None:
        retrieval = fanout_search(embedder, shards, reranker)
        settings = get_settings()
        route_app_logs(settings.effective_log_level)
        self._batch_interval_s = settings.stream_batch_interval_s
        client = configured_redis(settings)
        breakers = CircuitBreakers(breaker_store(client), BreakerConfig())
        self._metrics = TutorMetrics(RayExporter())
        self._router = TutorRouter(
            retrieval,
            {name: HandleLLM(name, h) for name, h in llms.items()},
            breakers,
            observer=self._metrics,
            cache=response_cache(client),
        )
        self._probes: dict[str, Probe] = {
            "embedder": health_probe(embedder),
            **{f"shard:{s}": health_probe(h) for s, h in shards.items()},
            **({"reranker": health_probe(reranker)} if reranker else {}),
            **{f"llm:{name}": health_probe(h) for name, h in llms.items()},
        }

    def reconfigure(self, config: dict[str, Any]) -> None:
        self._router.config = RouterConfig.model_validate(config)

    async def models(self) -> list[dict[str, str]]:
        return await self._router.models()

    async def summarize(self, transcript: str) -> str:
        return await self._router.summarize(transcript)

    async def answer(self, plan: QueryPlan) -> AsyncIterator[AnswerEvent | list[AnswerEvent]]:
        """The answer's events, in batches (one handle message each) when the caller asks."""
        events = self._router.answer(plan)
        async for message in sent_as_asked(events, plan.batched_stream, self._batch_interval_s):
            yield message

    async def components(self) -> dict[str, Any]:
        """Health of every node behind the router (the ingress adds its own dependencies)."""
        report: dict[str, Any] = await check_all(self._probes, timeout_s=5.0)
        states = await self._router.breaker_states()
        for name, state in states.items():
            report["components"][f"llm:{name}"]["breaker"] = state
            self._metrics.breaker_state(name, STATE_CODE[state])
        breakers = self._router.breakers
        status = "healthy" if breakers.store_reachable else "degraded"
        report["components"]["breakers"] = {
            "status": status,
            "store": breakers.store.kind,
            **states,
        }
        if self._router.cached is not None:
            kind = self._router.cached.cache.kind
            report["components"]["response_cache"] = {"status": "healthy", "store": kind}
        return report["components"]

    def config(self) -> dict[str, Any]:
        return self._router.config.model_dump()
