"""The tutor's router: retrieve, classify, pick a backend chain (policy or A/B arm), generate.

Plain Python over injected services (deployment handles in the graph, local objects in one
process). Every answer is a stream of `models.events.AnswerEvent`s (sources, tokens, then done
or an error), relayed as server-sent events or collected.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from grounding.check import GroundingConfig
from grounding.question import Entry, LabelMeaning
from grounding.step import AnswerChecker
from models.backend import ChatMessage, GenerationRequest, ModelInfo
from models.breaker import BreakerConfig, CircuitBreakers
from models.breaker import State as BreakerState
from models.errors import BackendTimeout, ModelError, UnknownBackendError
from models.events import (
    AnswerEvent,
    CacheInfo,
    DoneEvent,
    ErrorEvent,
    ServedEvent,
    Source,
    SourcesEvent,
    TokenEvent,
)
from models.experiments import Experiment, assign
from models.generation import CallObserver, ChainRunner, Generation, LLMClient, Price
from models.prompts import SourceText, build_messages
from models.resilience import Deadline, RetryOverride, RetryPolicy
from models.routing import RouteChoice, RoutePolicy, classify
from response_cache.lookup import CacheContext, CachedAnswers, CacheObserver, replay
from response_cache.rules import CacheConfig, is_personal
from response_cache.stores import ResponseCache
from retrieval.fanout import FanoutSearch, SearchOutcome, elapsed_ms
from retrieval.pipeline import SearchParams, select_subjects
from retrieval.shard import Hit

SUMMARY_PROMPT = (
    "Summarise this conversation between a student and a tutor in at most three sentences. "
    "Keep the topics, names and numbers."
)
ALL_DOWN = (
    "The tutor's models are unavailable right now. Here are the curriculum passages that "
    "match your question."
)


class GenerationParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_tokens: int = Field(160, ge=1, le=4096)
    temperature: float = Field(0.0, ge=0, le=2)
    sources_in_prompt: int = Field(3, ge=0, le=10)
    deadline_s: float = Field(30.0, gt=0, description="Time budget for all attempts together.")


class RouterConfig(BaseModel):
    """The router's `user_config`: applied in place by `serve deploy`, no restart."""

    model_config = ConfigDict(extra="forbid")

    search: SearchParams = Field(default_factory=SearchParams)
    policy: RoutePolicy = Field(default_factory=RoutePolicy)
    generation: GenerationParams = Field(default_factory=GenerationParams)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    backend_calls: dict[str, RetryOverride] = Field(
        default_factory=dict,
        description="Backend name -> its own attempts and first-token timeout, over `retry`: "
        "a remote tier that hangs costs its timeout, not the request's deadline.",
    )
    breaker: BreakerConfig = Field(default_factory=BreakerConfig)
    experiment: Experiment | None = Field(None, description="An A/B test of routing policies.")
    prices: dict[str, Price] = Field(
        default_factory=dict, description="Backend name -> price per 1K tokens (cost metrics)."
    )
    cache: CacheConfig = Field(default_factory=CacheConfig)
    grounding: GroundingConfig = Field(
        default_factory=GroundingConfig,
        description="Every answer checked against its sources; unsupported ones repaired.",
    )


@dataclass(frozen=True)
class QueryPlan:
    """What the ingress asks the router to answer."""

    question: str
    subject: str | None = None
    k: int = 5
    history: list[ChatMessage] = field(default_factory=list)
    profile_note: str = ""
    request_id: str = ""
    user_key: str = ""  # who the A/B assignment is stable for (user, else session)
    backend: str | None = None  # a named backend instead of the policy (OpenAI `model`)
    grounding: str | None = None  # the answer check's mode instead of the config's (evaluation)
    class_level: int | None = None  # part of the cache key: answers may differ by level
    cacheable: bool = True  # false for personal questions and unresolved follow-ups
    # Events back in lists (deployments/stream_batches.py), as GenerationRequest.batched_stream.
    batched_stream: bool = False


class RouterObserver(CallObserver, CacheObserver, Protocol):
    """What the router reports: backend calls and cache lookups (metrics)."""


SOURCE_TEXT_CHARS = 600  # as much as the prompt shows the model (models/prompts.py)


def source_of(hit: Hit) -> Source:
    text = hit.text[:SOURCE_TEXT_CHARS]
    return Source(id=hit.doc_id, title=hit.title, subject=hit.subject, score=hit.score, text=text)


class TutorRouter:
    def __init__(
        self,
        retrieval: FanoutSearch,
        llms: dict[str, LLMClient],
        breakers: CircuitBreakers,
        config: RouterConfig | None = None,
        observer: RouterObserver | None = None,
        cache: ResponseCache | None = None,
    ) -> None:
        self.retrieval = retrieval
        self.llms = llms
        self.breakers = breakers
        self.observer = observer
        self.cached = None if cache is None else CachedAnswers(cache, self._version_of, observer)
        self.config = config or RouterConfig()
        self._probing: dict[str, asyncio.Task[bool | None]] = {}
        self.checker = AnswerChecker(self._runner, deadline_s=30.0)
        self._label_vectors: dict[str, Any] = {}

    @property
    def config(self) -> RouterConfig:
        return self._config

    @config.setter
    def config(self, config: RouterConfig) -> None:
        self._config = config
        self.breakers.config = config.breaker
        if self.cached is not None:
            self.cached.config = config.cache

    async def describe(self, backend: str) -> ModelInfo:
        """What `backend` serves now, or `BackendTimeout`: a model node with no running replica
        must not hold a question (or `/v1/models`) longer than it would hold a first token."""
        timeout_s = self._runner().policy_for(backend).first_token_timeout_s
        try:
            return await asyncio.wait_for(self.llms[backend].describe(), timeout_s)
        except TimeoutError as error:
            raise BackendTimeout(
                f"{backend} did not say what it serves within {timeout_s}s"
            ) from error

    async def _version_of(self, backend: str) -> str:
        return (await self.describe(backend)).version

    async def search(self, question: str, subject: str | None, k: int) -> SearchOutcome:
        return await self.retrieval.search(question, subject, k, self.config.search)

    def choose(self, question: str, user_key: str, backend: str | None = None) -> RouteChoice:
        decision = classify(question)
        if backend is not None:
            if backend not in self.llms:
                raise UnknownBackendError(backend, list(self.llms))
            return RouteChoice(decision.query_class, "requested", "", [backend])
        policy, arm = self.config.policy, ""
        if self.config.experiment is not None and user_key:
            arm = assign(self.config.experiment, user_key)
            policy = self.config.experiment.arms[arm].policy
        chain = policy.chain(decision.query_class, self.llms)
        return RouteChoice(decision.query_class, decision.rule, arm, chain)

    def probe_later(self, backend: str) -> None:
        """A question skipped `backend` for its open breaker: probe it beside the answer (see
        `ChainRunner.probe`), at most one probe a backend at a time in this replica."""
        if not self.config.breaker.probe_in_background or backend in self._probing:
            return
        task = asyncio.get_running_loop().create_task(self._runner().probe(backend))
        self._probing[backend] = task
        task.add_done_callback(lambda _: self._probing.pop(backend, None))

    async def wait_for_probes(self) -> None:
        """For tests: let the probes in flight finish."""
        await asyncio.gather(*list(self._probing.values()), return_exceptions=True)

    def _runner(self) -> ChainRunner:
        config = self.config
        return ChainRunner(
            self.llms,
            self.breakers,
            config.retry,
            self.observer,
            overrides=config.backend_calls,
            on_open=self.probe_later,
        )

    async def summarize(self, transcript: str) -> str:
        """A short summary of conversation turns by the cheap tier (the simple-factual chain);
        empty if no backend answers: the turns then simply stay out of the prompt."""
        chain = self.config.policy.chain("simple_factual", self.llms)
        request = GenerationRequest(
            messages=[ChatMessage("system", SUMMARY_PROMPT), ChatMessage("user", transcript)],
            max_tokens=120,
        )
        runner = self._runner()
        events = runner.run(chain, request, Deadline.after(30), Generation())
        return "".join([e.text async for e in events if isinstance(e, TokenEvent)]).strip()

    async def models(self) -> list[dict[str, str]]:
        listed = []
        for name in self.llms:
            try:
                info = await self.describe(name)
            except ModelError as error:
                listed.append({"id": name, "model": "", "version": f"unavailable: {error}"})
                continue
            listed.append({"id": name, "model": info.model, "version": info.version})
        return listed

    async def answer(self, plan: QueryPlan) -> AsyncIterator[AnswerEvent]:
        start = time.perf_counter()
        choice = self.choose(plan.question, plan.user_key, plan.backend)  # errors before events
        context = await self._cache_context(plan, choice)
        cached = self.cached if context is not None else None
        hit = await cached.exact(context) if cached and context else None
        params = self.config.search
        if hit is None:
            query = await self.retrieval.embed(plan.question, plan.subject, params, bool(cached))
            if cached and context and query.vector is not None:
                hit = await cached.similar(context, query.vector)
        if hit is not None:
            for event in replay(hit, plan.request_id, elapsed_ms(start)):
                yield event
            return
        outcome = await self.retrieval.search_embedded(query, plan.subject, plan.k, params)
        self._learn_epochs(outcome)
        async for event in self._answer_live(plan, outcome, choice, query.vector):
            yield event

    async def _answer_live(
        self,
        plan: QueryPlan,
        outcome: SearchOutcome,
        choice: RouteChoice,
        vector: Any,
    ) -> AsyncIterator[AnswerEvent]:
        sources = [source_of(h) for h in outcome.hits]
        yield SourcesEvent(sources=sources, degraded=outcome.degraded)
        parts: list[str] = []
        async for event in self._generate(plan, outcome, choice):
            if isinstance(event, TokenEvent):
                parts.append(event.text)
            elif isinstance(event, DoneEvent):
                entries = self._entries(outcome)
                checked = await self.checker.review(
                    self._grounding_for(plan),
                    plan.question,
                    entries,
                    "".join(parts),
                    event,
                    await self._meaning(entries, vector),
                )
                for extra in checked.events:
                    yield extra
                yield checked.done
                await self._remember(plan, choice, sources, checked.text, checked.done, vector)
                return
            yield event
            if isinstance(event, ErrorEvent):
                return  # a broken answer is never cached

    async def _cache_context(self, plan: QueryPlan, choice: RouteChoice) -> CacheContext | None:
        """The key context when this answer may come from (or go to) the cache."""
        cached = self.cached
        if cached is None or not cached.config.enabled or not plan.cacheable or not choice.chain:
            return None
        if is_personal(plan.question) or choice.query_class not in cached.config.ttl_s:
            return None
        curriculum = cached.curriculum(select_subjects(plan.subject, self.retrieval.subjects))
        if curriculum is None:
            return None  # index epochs not known fresh: search first, cache from then on
        version = await cached.model_version(choice.chain[0])
        if version is None:
            return None
        return CacheContext(
            plan.question, plan.subject, plan.class_level, version, curriculum, choice.query_class
        )

    def _learn_epochs(self, outcome: SearchOutcome) -> None:
        """Remember which index each subject serves, for cache keys. A shared (Redis) cache is
        told exactly which documents an update changed, so keys follow the epoch (full
        rebuilds); a per-replica cache cannot be told, so its keys follow every version."""
        if self.cached is None:
            return
        learned = outcome.epochs if self.cached.cache.kind == "redis" else outcome.versions
        for subject, value in learned.items():
            self.cached.epochs.learn(subject, value)

    async def _remember(
        self,
        plan: QueryPlan,
        choice: RouteChoice,
        sources: list[Source],
        answer: str,
        done: DoneEvent,
        vector: Any,
    ) -> None:
        if self.cached is None or done.status != "ok" or not answer.strip():
            return
        if done.grounding is not None and done.grounding.verdict == "unsupported":
            return  # served marked in flag mode, but never again from the cache
        context = await self._cache_context(plan, choice)
        if context is not None and context.model_version == done.model_version:
            await self.cached.store(context, answer, sources, done, vector)

    def _grounding_for(self, plan: QueryPlan) -> GroundingConfig:
        config = self.config.grounding
        if plan.grounding is None:
            return config
        return config.model_copy(update={"mode": plan.grounding})

    def _entries(self, outcome: SearchOutcome) -> list[Entry]:
        """The entries the model was given, with what each states: what the check reads."""
        top = outcome.hits[: self.config.generation.sources_in_prompt]
        return [Entry(h.title, h.text, dict(h.facts), h.aliases) for h in top]

    async def _meaning(self, entries: list[Entry], vector: Any) -> LabelMeaning | None:
        """The question's embedding and its entries' field labels', for the check to tell
        which field a question means when it does not use the label's words. Each label is
        embedded once a replica (a handful per curriculum)."""
        labels = {label.lower() for e in entries for label in e.facts}
        if vector is None or not labels:
            return None
        for label in labels - self._label_vectors.keys():
            embedded = await self.retrieval.embed_text(label)
            self._label_vectors[label] = np.asarray(embedded, np.float32).reshape(-1)
        question = np.asarray(vector, np.float32).reshape(-1)
        return LabelMeaning(question, {lab: self._label_vectors[lab] for lab in labels})

    def _prompt_sources(self, outcome: SearchOutcome) -> list[SourceText]:
        """The passages the model is given: what its answer must rest on."""
        top = outcome.hits[: self.config.generation.sources_in_prompt]
        return [SourceText(h.title, h.text) for h in top]

    def _request(self, plan: QueryPlan, outcome: SearchOutcome) -> GenerationRequest:
        generation = self.config.generation
        sources = self._prompt_sources(outcome)
        return GenerationRequest(
            messages=build_messages(plan.question, sources, plan.history, plan.profile_note),
            max_tokens=generation.max_tokens,
            temperature=generation.temperature,
            request_id=plan.request_id,
        )

    async def _generate(
        self, plan: QueryPlan, outcome: SearchOutcome, choice: RouteChoice
    ) -> AsyncIterator[TokenEvent | ErrorEvent | DoneEvent]:
        runner = self._runner()
        gen = Generation()
        served: ServedEvent | None = None
        deadline = Deadline.after(self.config.generation.deadline_s)
        start = time.perf_counter()
        async for event in runner.run(choice.chain, self._request(plan, outcome), deadline, gen):
            if isinstance(event, ServedEvent):
                served = event
                continue
            yield event
            if isinstance(event, ErrorEvent):
                return  # tokens were sent: the answer stays visibly broken, not silently short
        outcome.timings_ms["generate"] = elapsed_ms(start)
        yield self._done(plan, outcome, gen, served, choice)

    def _done(
        self,
        plan: QueryPlan,
        outcome: SearchOutcome,
        gen: Generation,
        served: ServedEvent | None,
        choice: RouteChoice,
    ) -> DoneEvent:
        backend = served.backend if served else None
        price = self.config.prices.get(backend or "", Price())
        timings = {**outcome.timings_ms}
        if gen.first_token_ms is not None:
            timings["first_token"] = gen.first_token_ms
        usage = gen.usage
        return DoneEvent(
            status="ok" if backend else "degraded",
            message="" if backend else ALL_DOWN,
            model=served.model if served else None,
            model_version=served.version if served else None,
            backend=backend,
            route=choice.route(backend),
            query_class=choice.query_class,
            arm=choice.arm,
            request_id=plan.request_id,
            attempts=gen.attempts,
            fallbacks=gen.fallbacks,
            usage=usage,
            cost_usd=price.cost(usage.prompt_tokens, usage.completion_tokens),
            cache=CacheInfo(hit=False),
            timings_ms=timings,
        )

    async def breaker_states(self) -> dict[str, BreakerState]:
        return {name: await self.breakers.state(name) for name in self.llms}
