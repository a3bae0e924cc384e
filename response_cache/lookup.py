"""The router's use of the response cache: build the key context, look up (exact, then
semantic with guards), replay a hit as answer events, store complete answers.

Store failures never fail an answer: a cache that does not answer is a miss, counted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from models.errors import ModelError
from models.events import (
    AnswerEvent,
    CacheInfo,
    DoneEvent,
    GroundingEvent,
    Source,
    SourcesEvent,
    TokenEvent,
    Usage,
)
from response_cache.rules import CacheConfig, CacheEntry, admissible, exact_key, key_terms
from response_cache.stores import ResponseCache
from retrieval.embedder import Vectors

log = logging.getLogger(__name__)
FRESH_S = 30.0  # how long a learned model version or index epoch is trusted


class CacheObserver(Protocol):
    def cache_lookup(self, result: str) -> None: ...


@dataclass(frozen=True)
class CacheContext:
    """What a cached answer must share with the question to be reused."""

    question: str
    subject: str | None
    class_level: int | None
    model_version: str
    curriculum: str
    query_class: str

    @property
    def key(self) -> str:
        return exact_key(
            self.question, self.subject, self.class_level, self.model_version, self.curriculum
        )

    @property
    def guard(self) -> tuple[str | None, int | None, str, str]:
        return self.subject, self.class_level, self.model_version, self.curriculum


@dataclass(frozen=True)
class Hit:
    entry: CacheEntry
    kind: Literal["exact", "semantic"]
    similarity: float


class Freshness:
    """Values learned at run time (index epochs, model versions) that expire."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._values: dict[str, tuple[float, str]] = {}

    def learn(self, name: str, value: str) -> None:
        self._values[name] = (self._clock(), value)

    def get(self, name: str) -> str | None:
        found = self._values.get(name)
        if found is None or self._clock() - found[0] > FRESH_S:
            return None
        return found[1]


class CachedAnswers:
    def __init__(
        self,
        cache: ResponseCache,
        describe: Callable[[str], Awaitable[str]],
        observer: CacheObserver | None = None,
    ) -> None:
        self.cache = cache
        self._describe = describe  # backend name -> the version it serves now
        self._observer = observer
        self.epochs = Freshness()
        self.versions = Freshness()
        self.config = CacheConfig()

    def _count(self, result: str) -> None:
        if self._observer is not None:
            self._observer.cache_lookup(result)

    async def model_version(self, backend: str) -> str | None:
        """The version `backend` serves, or None when it cannot say (then nothing is cached)."""
        version = self.versions.get(backend)
        if version is None:
            try:
                version = await self._describe(backend)
            except ModelError as error:
                log.warning("response cache: no model version from %s: %s", backend, error)
                return None
            self.versions.learn(backend, version)
        return version

    def curriculum(self, subjects: list[str]) -> str | None:
        """The index epochs a question is searched in; None while one is not known fresh."""
        epochs = [self.epochs.get(s) for s in subjects]
        if any(e is None for e in epochs):
            return None
        return "|".join(f"{s}:{e}" for s, e in zip(subjects, epochs, strict=True))

    async def exact(self, context: CacheContext) -> Hit | None:
        try:
            entry = await self.cache.exact(context.key)
        except Exception as error:  # noqa: BLE001 - an unreachable cache is a miss, counted
            log.warning("response cache lookup failed: %s", error)
            self._count("error")
            return None
        if entry is None:
            return None
        self._count("hit_exact")
        return Hit(entry, "exact", 1.0)

    async def similar(self, context: CacheContext, vector: Vectors) -> Hit | None:
        try:
            candidates = await self.cache.similar(vector, k=5)
        except Exception as error:  # noqa: BLE001 - an unreachable cache is a miss, counted
            log.warning("response cache lookup failed: %s", error)
            self._count("error")
            return None
        terms = key_terms(context.question)
        threshold = self.config.semantic_threshold
        for entry, similarity in candidates:
            if admissible(entry, similarity, terms, context.guard, threshold):
                self._count("hit_semantic")
                return Hit(entry, "semantic", similarity)
        close = any(similarity >= threshold for _, similarity in candidates)
        self._count("rejected" if close else "miss")  # rejected: a near miss the guard caught
        return None

    async def store(
        self,
        context: CacheContext,
        answer: str,
        sources: list[Source],
        done: DoneEvent,
        vector: Vectors | None,
    ) -> None:
        ttl = self.config.ttl_s.get(context.query_class)
        if ttl is None:
            return
        entry = CacheEntry(
            key=context.key,
            question=context.question,
            key_terms=sorted(key_terms(context.question)),
            subject=context.subject,
            class_level=context.class_level,
            model_version=context.model_version,
            curriculum=context.curriculum,
            query_class=context.query_class,
            answer=answer,
            sources=sources,
            done=done,
            ttl_s=ttl,
        )
        try:
            await self.cache.put(entry, vector)
        except Exception as error:  # noqa: BLE001 - not caching must not fail the answer
            log.warning("response cache store failed: %s", error)


def replay(hit: Hit, request_id: str, elapsed_ms: float) -> list[AnswerEvent]:
    """A cached answer as the events of a live one, marked as a hit and costing nothing."""
    entry = hit.entry
    cache = CacheInfo(hit=True, kind=hit.kind, similarity=round(hit.similarity, 4))
    done = entry.done.model_copy(
        update={
            "request_id": request_id,
            "cache": cache,
            "usage": Usage(),
            "cost_usd": 0.0,
            "fallbacks": 0,
            "attempts": [],
            "timings_ms": {"cache": round(elapsed_ms, 2)},
        }
    )
    events: list[AnswerEvent] = [SourcesEvent(sources=entry.sources), TokenEvent(text=entry.answer)]
    if done.grounding is not None:  # a cached answer keeps its verdict
        events.append(GroundingEvent(**done.grounding.model_dump()))
    return [*events, done]
