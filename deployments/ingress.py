"""Graph node: the HTTP ingress. Holds a `TutorService` per replica and serves `build_api`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import redis.asyncio as aioredis
from psycopg_pool import AsyncConnectionPool
from ray.serve.handle import DeploymentHandle, DeploymentResponseGenerator

from access.quotas import (
    FallbackQuotaStore,
    MemoryQuotaStore,
    Quotas,
    QuotaStore,
    RedisQuotaStore,
)
from access.tokens import TokenVerifier
from cluster.errors import ClusterError, DependencyDown
from cluster.followed_settings import FollowedSettings
from cluster.observability import health
from cluster.observability.metrics import TutorMetrics
from cluster.redis_client import configured_redis
from cluster.settings import Settings, get_settings
from cluster.storage.db import Feedback, RequestLog, SessionArchive, Users, most_asked, open_pool
from cluster.storage.history import History
from conversation.context import TokenCounter, approximate_counter, tokenizer_counter
from conversation.errors import ConversationError
from conversation.fallback import FallbackSessionStore
from conversation.sessions import RedisSessionStore, SessionStore
from deployments.api import build_api
from deployments.api_access import AccessConfig, AccessControl
from deployments.handles import REPLICA_LOST, fanout_search
from deployments.logs import route_app_logs
from deployments.ray_metrics import RayExporter, ray_metrics_text
from deployments.session_actor import RayActorSessionStore
from deployments.stream_batches import items_of
from models.errors import ModelError
from models.events import AnswerEvent, error_event
from models.prepare import MODEL_NAME as LOCAL_MODEL
from practice.store import MemoryPracticeStore, PracticeStore, RedisPracticeStore
from response_cache import warmup
from retrieval.errors import RetrievalError
from retrieval.fanout import FanoutSearch, SearchOutcome
from retrieval.pipeline import SearchParams
from service.practice import Practice
from service.router import QueryPlan
from service.tutor_service import TutorService

log = logging.getLogger(__name__)
# The router probes every node behind it within 5 s; a little more for the hop itself.
ROUTER_HEALTH_TIMEOUT_S = 8.0
# A question whose router replica was lost before it sent anything is asked once more.
ROUTER_ATTEMPTS = 2


class RouterViaHandle:
    """The router deployment seen through its handle, as `service.tutor_service.Answerer`.

    Retrieval-only requests skip it: they go from the ingress straight to the embedder and the
    shards, because the router hop buys them nothing and costs ~7 ms of CPU on 2 cores
    (docs/PERFORMANCE.md). Their settings stay the router's user_config, followed here.
    """

    def __init__(
        self, handle: DeploymentHandle, retrieval: FanoutSearch, refresh_s: float = 1.0
    ) -> None:
        self._handle = handle
        # Configured once and kept: each .options() call builds a new handle.
        self._streaming = handle.options(stream=True)
        self._retrieval = retrieval
        self._search_params = FollowedSettings(self._router_search_params, refresh_s)

    async def _router_search_params(self) -> SearchParams:
        config: dict[str, Any] = await self._handle.config.remote()
        return SearchParams.model_validate(config["search"])

    async def search(self, question: str, subject: str | None, k: int) -> SearchOutcome:
        params = await self._search_params.get()
        return await self._retrieval.search(question, subject, k, params)

    async def models(self) -> list[dict[str, str]]:
        listed: list[dict[str, str]] = await self._handle.models.remote()
        return listed

    async def summarize(self, transcript: str) -> str:
        summary: str = await self._handle.summarize.remote(transcript)
        return summary

    async def answer(self, plan: QueryPlan) -> AsyncIterator[AnswerEvent]:
        """The router's events. A router replica lost before the first event is a 503 (ask
        again); after it, the answer ends with an error event, as a broken model stream does."""
        asked = replace(plan, batched_stream=True)
        for attempt in range(1, ROUTER_ATTEMPTS + 1):
            events: DeploymentResponseGenerator = self._streaming.answer.remote(asked)  # type: ignore[assignment]
            sent, finished = 0, False
            try:
                async for message in events:
                    for event in items_of(message):
                        sent += 1
                        yield event
                finished = True
                return
            except REPLICA_LOST as error:
                lost = f"a router replica was lost while answering ({type(error).__name__})"
                if sent == 0 and attempt < ROUTER_ATTEMPTS:
                    continue  # nothing was sent yet: another replica answers it whole
                if sent == 0:
                    raise DependencyDown("router", lost) from error
                yield error_event("stream_interrupted", f"the answer broke off: {lost}; ask again")
                return
            finally:
                if not finished:
                    events.cancel()


def session_store(settings: Settings) -> SessionStore:
    """Redis with this replica's memory standing in during an outage; without Redis, the
    embedded Ray actor that all replicas share."""
    client = configured_redis(settings)
    if client is not None:
        redis_store = RedisSessionStore(client, settings.session_ttl_s)
        return FallbackSessionStore(redis_store, settings.session_ttl_s)
    return RayActorSessionStore(settings.session_ttl_s)


def practice_store(settings: Settings) -> PracticeStore:
    """Redis, so any ingress replica can check an item another made; without it, this
    replica's memory (a development setup with one ingress replica)."""
    client = configured_redis(settings)
    ttl = settings.practice_item_ttl_s
    return MemoryPracticeStore(ttl) if client is None else RedisPracticeStore(client, ttl)


def access_control(settings: Settings) -> AccessControl:
    """Tokens as the settings say (none with AUTH_MODE=off); quotas counted in Redis, shared by
    every ingress replica, or in this replica's memory without it."""
    tokens = settings.token_config()
    client = configured_redis(settings)
    store: QuotaStore = (
        MemoryQuotaStore() if client is None else FallbackQuotaStore(RedisQuotaStore(client))
    )
    verifier = TokenVerifier(tokens) if tokens is not None else None
    return AccessControl(verifier, Quotas(store))


def token_counter(settings: Settings) -> TokenCounter:
    """The local model's own tokenizer when prepared here, else a word-based estimate."""
    tokenizer = settings.models_dir / LOCAL_MODEL / "tokenizer.json"
    return tokenizer_counter(tokenizer) if tokenizer.is_file() else approximate_counter


class TutorIngress:
    async def __init__(  # type: ignore[misc]
        self,
        router: DeploymentHandle,
        embedder: DeploymentHandle,
        shards: dict[str, DeploymentHandle],
        reranker: DeploymentHandle | None,
    ) -> None:
        # Serve awaits an async constructor, so the pool can be opened here.
        settings = get_settings()
        route_app_logs(settings.effective_log_level)
        self._router = router
        self._sessions = session_store(settings)
        self._access = access_control(settings)
        self._openai_configured = settings.openai_api_key is not None
        self._pool: AsyncConnectionPool | None = None
        metrics = TutorMetrics(RayExporter())
        users, request_log, feedback, archive, history = None, None, None, None, None
        if settings.database_url is not None:
            self._pool = open_pool(str(settings.database_url), settings.db_pool_max_size)
            await self._pool.open(wait=False)  # PostgreSQL down at start must not block serving
            users = Users(self._pool)
            request_log = RequestLog(self._pool, count=metrics.request_log_rows)
            feedback, archive = Feedback(self._pool), SessionArchive(self._pool)
            history = History(self._pool)
        answerer = RouterViaHandle(router, fanout_search(embedder, shards, reranker))
        practice = Practice(practice_store(settings), answerer.search, users)
        self.service = TutorService(
            answerer,
            self._sessions,
            users,
            request_log,
            metrics,
            feedback,
            archive,
            token_counter(settings),
            settings.context_window_tokens,
            practice,
            history,
        )
        self._warmup_task: asyncio.Task[None] | None = None
        if self._pool is not None and settings.cache_warmup_questions:
            self._warmup_task = asyncio.get_running_loop().create_task(
                self._warm_up(configured_redis(settings), settings.cache_warmup_questions)
            )

    async def _warm_up(self, lock: aioredis.Redis | None, limit: int) -> None:
        """Off the start-up path: the replica is healthy while the cache fills."""
        assert self._pool is not None
        try:
            await self._until_ready()
            if await warmup.claim(lock):
                questions = await most_asked(self._pool, limit)
                await warmup.warm_up(self.service, questions)
        except (ClusterError, ConversationError, ModelError, RetrievalError) as error:
            log.warning("cache warm-up stopped: %s", error)
        except aioredis.RedisError as error:
            log.warning("cache warm-up stopped: Redis: %s", error)
        finally:
            if lock is not None:
                await lock.aclose()

    async def _until_ready(self, poll_s: float = 5.0) -> None:
        """Warm-up answers must come from a ready graph (a sources-only answer is not cached)."""
        while health.failing((await self.health_report())["components"]):
            await asyncio.sleep(poll_s)

    def reconfigure(self, config: dict[str, Any]) -> None:
        """The ingress's `user_config`: quotas and per-role models, applied in place."""
        self._access.configure(AccessConfig.model_validate(config))

    def __serve_build_asgi_app__(self) -> Any:
        return build_api(self.service, self.health_report, ray_metrics_text, self._access)

    async def health_report(self) -> dict[str, Any]:
        own = await health.check_all(self._probes())
        components = {**own["components"], **health.fold_shards(await self._behind_router())}
        components["openai"] = health.openai_summary(components, self._openai_configured)
        components["models"] = health.models_summary(components)
        return health.report_of(components)

    async def _behind_router(self) -> dict[str, Any]:
        """The router's report of the nodes behind it, or the router itself as unhealthy: a
        router with no running replica must not hang the health endpoints."""
        try:
            report: dict[str, Any] = await asyncio.wait_for(
                self._router.components.remote(), ROUTER_HEALTH_TIMEOUT_S
            )
        except TimeoutError:
            problem = f"no answer within {ROUTER_HEALTH_TIMEOUT_S:.0f}s"
            return {"router": {"status": "unhealthy", "error": problem}}
        return {"router": {"status": "healthy"}, **report}

    def _probes(self) -> dict[str, health.Probe]:
        probes: dict[str, health.Probe] = {
            "session_store": self._session_probe,
            "quotas": self._quota_probe,
        }
        if self._sessions.kind != "redis":
            probes["redis"] = health.disabled("REDIS_URL unset: sessions in an embedded Ray actor")
        else:
            probes["redis"] = self._redis_probe
        if self._pool is None:
            probes["database"] = health.disabled("DATABASE_URL unset: request log off")
        else:
            probes["database"] = self._database_probe
        return probes

    async def _session_probe(self) -> dict[str, Any]:
        if isinstance(self._sessions, FallbackSessionStore):
            return await self._sessions.check()  # degraded, not failed, while memory stands in
        await self._sessions.ping()
        return {"status": "healthy", "backend": self._sessions.kind}

    async def _quota_probe(self) -> dict[str, Any]:
        store = self._access.quotas.store
        degraded = isinstance(store, FallbackQuotaStore) and store.degraded
        return {"status": "degraded" if degraded else "healthy", "backend": store.kind}

    async def _redis_probe(self) -> dict[str, Any]:
        await self._sessions.ping()
        return {"status": "healthy", "backend": "redis"}

    async def _database_probe(self) -> dict[str, Any]:
        assert self._pool is not None
        async with self._pool.connection(timeout=2.0) as conn:
            await conn.execute("SELECT 1")
        log_stats = self.service.request_log
        return {"status": "healthy", "request_log_dropped": log_stats.dropped if log_stats else 0}

    async def __del__(self) -> None:
        if self._warmup_task is not None:
            self._warmup_task.cancel()
        if self._pool is not None:
            await self._pool.close()
