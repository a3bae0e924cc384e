"""The tutor's router: retrieve (embed -> shards -> rerank), pick a model, stream the answer.

Plain Python: its collaborators are async callables, so the Serve graph passes deployment
handles and a single process passes local objects (the benchmark baseline, unit tests).

Every answer is a stream of events, so the ingress can relay it as server-sent events or
collect it into one JSON body:
    {"type": "sources", "sources": [...], "degraded": [...]}
    {"type": "token", "text": "..."}                         (zero or more)
    {"type": "done", "model", "model_version", "route", "query_class", "usage", "timings_ms"}
    {"type": "error", "error": {"type", "message"}}          (instead of or after tokens)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from models.backend import ChatMessage, GenerationChunk, GenerationRequest, ModelInfo
from models.errors import ModelError
from models.prompts import SourceText, build_messages
from models.routing import RoutePolicy, classify
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
from retrieval.preprocess import prepare_query
from retrieval.shard import Hit, ShardCandidates

log = logging.getLogger(__name__)


class GenerationParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_tokens: int = Field(160, ge=1, le=4096)
    temperature: float = Field(0.0, ge=0, le=2)
    sources_in_prompt: int = Field(3, ge=0, le=10)


class RouterConfig(BaseModel):
    """The router's `user_config`: applied in place by `serve deploy`, no restart."""

    model_config = ConfigDict(extra="forbid")

    search: SearchParams = Field(default_factory=SearchParams)
    policy: RoutePolicy = Field(default_factory=RoutePolicy)
    generation: GenerationParams = Field(default_factory=GenerationParams)


@dataclass
class SearchOutcome:
    hits: list[Hit]
    degraded: list[dict[str, str]] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class QueryPlan:
    """What the ingress asks the router to answer."""

    question: str
    subject: str | None = None
    k: int = 5
    history: list[ChatMessage] = field(default_factory=list)
    profile_note: str = ""
    request_id: str = ""


class Embed(Protocol):
    def __call__(self, text: str) -> Awaitable[Vectors]: ...


class ShardSearch(Protocol):
    def __call__(
        self, vector: Vectors | None, keywords: str, k_dense: int, k_keyword: int
    ) -> Awaitable[ShardCandidates]: ...


class Rerank(Protocol):
    def __call__(self, pairs: list[tuple[str, str]]) -> Awaitable[list[float]]: ...


class LLMClient(Protocol):
    """A backend as the router sees it: a stream and a description (see `LLMBackend`)."""

    def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]: ...

    def describe(self) -> Awaitable[ModelInfo]: ...


def elapsed_ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 2)


def source_json(hit: Hit) -> dict[str, Any]:
    return {"id": hit.doc_id, "title": hit.title, "subject": hit.subject, "score": hit.score}


class TutorRouter:
    def __init__(
        self,
        embed: Embed,
        shards: dict[str, ShardSearch],
        rerank: Rerank | None,
        llms: dict[str, LLMClient],
        config: RouterConfig | None = None,
    ) -> None:
        self._embed = embed
        self._shards = shards
        self._rerank_pairs = rerank
        self._llms = llms
        self.config = config or RouterConfig()

    def reconfigure(self, config: dict[str, Any]) -> None:
        self.config = RouterConfig.model_validate(config)

    async def search(self, question: str, subject: str | None, k: int) -> SearchOutcome:
        params = self.config.search
        prepared = prepare_query(question, params.max_query_chars)
        subjects = select_subjects(subject, list(self._shards))
        k_dense, k_keyword = candidate_counts(params.mode, params.fusion)
        outcome = SearchOutcome(hits=[])
        start = time.perf_counter()
        vector = await self._embed(prepared.text) if k_dense else None
        outcome.timings_ms["embed"] = elapsed_ms(start)
        start = time.perf_counter()
        counts = (k_dense, k_keyword)
        candidates = await self._gather_shards(subjects, vector, prepared.keywords, counts, outcome)
        ranked = first_stage(candidates, params)
        outcome.timings_ms["search"] = elapsed_ms(start)
        outcome.hits = await self._rerank(prepared.text, ranked, k, outcome)
        return outcome

    async def _gather_shards(
        self,
        subjects: list[str],
        vector: Any,
        keywords: str,
        counts: tuple[int, int],
        outcome: SearchOutcome,
    ) -> list[ShardCandidates]:
        k_dense, k_keyword = counts
        calls = [self._shards[s](vector, keywords, k_dense, k_keyword) for s in subjects]
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

    async def _rerank(
        self, query: str, ranked: list[Hit], k: int, outcome: SearchOutcome
    ) -> list[Hit]:
        params = self.config.search
        if params.mode != "rerank" or self._rerank_pairs is None:
            return ranked[:k]
        start = time.perf_counter()
        top = ranked[: params.rerank_top_n]
        scores = await self._rerank_pairs(rerank_pairs(query, top))
        outcome.timings_ms["rerank"] = elapsed_ms(start)
        return apply_rerank(top, scores, k)

    async def answer(self, plan: QueryPlan) -> AsyncIterator[dict[str, Any]]:
        outcome = await self.search(plan.question, plan.subject, plan.k)
        yield {
            "type": "sources",
            "sources": [source_json(h) for h in outcome.hits],
            "degraded": outcome.degraded,
        }
        async for event in self._generate(plan, outcome):
            yield event

    async def _generate(
        self, plan: QueryPlan, outcome: SearchOutcome
    ) -> AsyncIterator[dict[str, Any]]:
        decision = classify(plan.question)
        chain = self.config.policy.chain(decision.query_class, self._llms)
        generation = self.config.generation
        sources = [
            SourceText(h.title, h.text) for h in outcome.hits[: generation.sources_in_prompt]
        ]
        request = GenerationRequest(
            messages=build_messages(plan.question, sources, plan.history, plan.profile_note),
            max_tokens=generation.max_tokens,
            temperature=generation.temperature,
            request_id=plan.request_id,
        )
        start = time.perf_counter()
        backend = chain[0]
        info = await self._llms[backend].describe()
        usage = {"prompt_tokens": 0, "completion_tokens": 0}
        try:
            async for chunk in self._llms[backend].stream(request):
                if chunk.text:
                    outcome.timings_ms.setdefault("first_token", elapsed_ms(start))
                    yield {"type": "token", "text": chunk.text}
                if chunk.finish_reason is not None:
                    usage = {
                        "prompt_tokens": chunk.prompt_tokens,
                        "completion_tokens": chunk.completion_tokens,
                    }
        except ModelError as error:
            yield {"type": "error", "error": {"type": type(error).__name__, "message": str(error)}}
            return
        outcome.timings_ms["generate"] = elapsed_ms(start)
        yield {
            "type": "done",
            "model": info.model,
            "model_version": info.version,
            "backend": backend,
            "route": f"{decision.rule}->{backend}",
            "query_class": decision.query_class,
            "usage": usage,
            "timings_ms": outcome.timings_ms,
        }

    def health(self) -> dict[str, Any]:
        return {"status": "healthy", "backends": list(self._llms), "shards": list(self._shards)}
