"""Search fanned out to shard services: embed once, ask each shard, fuse, optionally rerank.

The services are async callables, so the Serve router passes deployment handles and a single
process passes local objects; the steps themselves are `retrieval.pipeline`'s.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Protocol

from retrieval.embedder import Vectors
from retrieval.errors import RetrievalError
from retrieval.pipeline import (
    SearchParams,
    apply_rerank,
    candidate_counts,
    first_stage,
    rerank_pairs,
    select_subjects,
)
from retrieval.preprocess import PreparedQuery, prepare_query
from retrieval.shard import Hit, ShardCandidates

log = logging.getLogger(__name__)


class Embed(Protocol):
    def __call__(self, text: str) -> Awaitable[Vectors]: ...


class ShardSearch(Protocol):
    def __call__(
        self, vector: Vectors | None, keywords: str, k_dense: int, k_keyword: int
    ) -> Awaitable[ShardCandidates]: ...


class Rerank(Protocol):
    def __call__(self, pairs: list[tuple[str, str]]) -> Awaitable[list[float]]: ...


@dataclass
class SearchOutcome:
    hits: list[Hit]
    degraded: list[dict[str, str]] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    epochs: dict[str, str] = field(default_factory=dict)  # subject -> index epoch searched
    versions: dict[str, str] = field(default_factory=dict)  # subject -> index version searched


@dataclass(frozen=True)
class EmbeddedQuery:
    prepared: PreparedQuery
    vector: Vectors | None
    embed_ms: float


def elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


class FanoutSearch:
    def __init__(
        self, embed: Embed, shards: dict[str, ShardSearch], rerank: Rerank | None = None
    ) -> None:
        self._embed = embed
        self._shards = shards
        self._rerank = rerank

    @property
    def subjects(self) -> list[str]:
        return list(self._shards)

    async def search(
        self, question: str, subject: str | None, k: int, params: SearchParams
    ) -> SearchOutcome:
        query = await self.embed(question, subject, params)
        return await self.search_embedded(query, subject, k, params)

    async def embed_text(self, text: str) -> Vectors:
        """One text's vector from the query embedder (the answer check's field labels)."""
        return await self._embed(text)

    async def embed(
        self, question: str, subject: str | None, params: SearchParams, always: bool = False
    ) -> EmbeddedQuery:
        """The query prepared and embedded once (skipped for keyword-only search unless
        `always`: the response cache wants the vector too)."""
        prepared = prepare_query(question, params.max_query_chars)
        select_subjects(subject, self.subjects)  # an unknown subject fails before any work
        start = time.perf_counter()
        needed = always or candidate_counts(params.mode, params.fusion)[0] > 0
        vector = await self._embed(prepared.text) if needed else None
        return EmbeddedQuery(prepared, vector, elapsed_ms(start))

    async def search_embedded(
        self, query: EmbeddedQuery, subject: str | None, k: int, params: SearchParams
    ) -> SearchOutcome:
        prepared, vector = query.prepared, query.vector
        subjects = select_subjects(subject, self.subjects)
        counts = candidate_counts(params.mode, params.fusion)
        outcome = SearchOutcome(hits=[], timings_ms={"embed": query.embed_ms})
        start = time.perf_counter()
        vector = vector if counts[0] else None
        candidates = await self._gather(subjects, vector, prepared.keywords, counts, outcome)
        ranked = first_stage(candidates, params)
        outcome.timings_ms["search"] = elapsed_ms(start)
        outcome.epochs = {c.subject: c.epoch for c in candidates}
        outcome.versions = {c.subject: c.version for c in candidates}
        outcome.hits = await self._reranked(prepared.text, ranked, k, params, outcome)
        return outcome

    async def _gather(
        self,
        subjects: list[str],
        vector: Vectors | None,
        keywords: str,
        counts: tuple[int, int],
        outcome: SearchOutcome,
    ) -> list[ShardCandidates]:
        calls = [self._shards[s](vector, keywords, *counts) for s in subjects]
        results = await asyncio.gather(*calls, return_exceptions=True)
        candidates = []
        for subject, result in zip(subjects, results, strict=True):
            if isinstance(result, ShardCandidates):
                candidates.append(result)
                continue
            # A failed shard degrades the answer (and says so); it does not fail it.
            log.warning("shard %s failed: %r", subject, result)
            outcome.degraded.append({"subject": subject, "error": str(result).splitlines()[0]})
        if not candidates:
            raise RetrievalError("no retriever shard answered: " + str(outcome.degraded))
        return candidates

    async def _reranked(
        self, query: str, ranked: list[Hit], k: int, params: SearchParams, outcome: SearchOutcome
    ) -> list[Hit]:
        if params.mode != "rerank" or self._rerank is None:
            return ranked[:k]
        start = time.perf_counter()
        top = ranked[: params.rerank_top_n]
        scores = await self._rerank(rerank_pairs(query, top))
        outcome.timings_ms["rerank"] = elapsed_ms(start)
        return apply_rerank(top, scores, k)
