"""Generating one answer along a backend chain: breaker check, retries until the first token,
fallback to the next backend, and an explicit error when a stream breaks after tokens."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from models.backend import ChatMessage, GenerationChunk, GenerationRequest, ModelInfo
from models.breaker import CircuitBreakers
from models.errors import ModelError, StreamInterrupted
from models.events import Attempt, ErrorEvent, ServedEvent, TokenEvent, Usage, error_event
from models.resilience import Deadline, RetryOverride, RetryPolicy, close_quietly, open_stream

log = logging.getLogger(__name__)
PROBE = GenerationRequest(messages=[ChatMessage("user", "Say OK.")], max_tokens=1)
ChainEvent = TokenEvent | ErrorEvent | ServedEvent


class LLMClient(Protocol):
    """A backend as the router sees it: a stream and a description (see `LLMBackend`)."""

    def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]: ...

    def describe(self) -> Awaitable[ModelInfo]: ...


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_per_1k: float = Field(0.0, ge=0, description="USD per 1,000 prompt tokens.")
    output_per_1k: float = Field(0.0, ge=0, description="USD per 1,000 completion tokens.")

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_1k + completion_tokens * self.output_per_1k) / 1000


class CallObserver(Protocol):
    """Told about every backend call (metrics); the router's replica supplies one."""

    def backend_call(self, backend: str, outcome: str, latency_s: float, usage: Usage) -> None: ...


@dataclass
class Generation:
    """What one answer's generation went through, reported in its `done` event."""

    attempts: list[Attempt] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    first_token_ms: float | None = None

    @property
    def fallbacks(self) -> int:
        return sum(1 for a in self.attempts if a.outcome != "ok")


class ChainRunner:
    def __init__(
        self,
        llms: dict[str, LLMClient],
        breakers: CircuitBreakers,
        policy: RetryPolicy,
        observer: CallObserver | None = None,
        clock: Callable[[], float] = time.perf_counter,
        overrides: dict[str, RetryOverride] | None = None,
        on_open: Callable[[str], None] | None = None,
    ) -> None:
        """`on_open(backend)`: told when a call skips a backend whose breaker is open (the
        router probes it in the background)."""
        self.on_open = on_open
        self.llms = llms
        self.breakers = breakers
        self.policy = policy
        self.overrides = overrides or {}
        self.observer = observer
        self.clock = clock

    async def run(
        self, chain: list[str], request: GenerationRequest, deadline: Deadline, gen: Generation
    ) -> AsyncIterator[ChainEvent]:
        """Token events from the first backend that answers; a `served` event naming it
        last. Nothing but an `error` event if a stream breaks after its first token."""
        for backend in chain:
            if not await self.breakers.allow(backend):
                gen.attempts.append(Attempt(backend, "skipped_open"))
                if self.on_open is not None:
                    self.on_open(backend)
                continue
            async for event in self._try(backend, request, deadline, gen):
                yield event
            if gen.attempts[-1].outcome in ("ok", "interrupted"):
                return

    async def probe(self, backend: str) -> bool | None:
        """If `backend`'s breaker is due a probe and this replica claims it: one call of one
        token, one attempt within the backend's first-token timeout. Its outcome closes or
        reopens the breaker. None: no probe was due (or another replica took it)."""
        if not await self.breakers.due_for_probe(backend):
            return None
        if not await self.breakers.allow(backend, probe=True):
            return None
        policy = self.policy_for(backend).model_copy(update={"max_attempts": 1})
        deadline = Deadline.after(policy.first_token_timeout_s + 1.0)
        try:
            _, rest = await open_stream(lambda: self.llms[backend].stream(PROBE), policy, deadline)
        except Exception as error:  # any failure reopens it; a probe must always report back
            await self.breakers.record(backend, False)
            log.info("probe of %s failed, its breaker stays open: %r", backend, error)
            return False
        await close_quietly(rest)
        await self.breakers.record(backend, True)
        log.warning("probe of %s answered: its breaker closes", backend)
        return True

    def policy_for(self, backend: str) -> RetryPolicy:
        override = self.overrides.get(backend)
        return self.policy if override is None else override.over(self.policy)

    async def _try(
        self, backend: str, request: GenerationRequest, deadline: Deadline, gen: Generation
    ) -> AsyncIterator[ChainEvent]:
        attempt = Attempt(backend, "failed")
        gen.attempts.append(attempt)
        start = self.clock()
        client = self.llms[backend]

        def retried(_: BaseException) -> None:
            attempt.retries += 1

        try:
            first, rest = await open_stream(
                lambda: client.stream(request), self.policy_for(backend), deadline, retried
            )
        except ModelError as error:
            attempt.error = f"{type(error).__name__}: {error}"
            await self._finish(backend, attempt, start, Usage())
            return
        async for event in self._relay(backend, first, rest, attempt, start, gen):
            yield event

    async def _relay(
        self,
        backend: str,
        first: GenerationChunk | None,
        rest: AsyncIterator[GenerationChunk],
        attempt: Attempt,
        start: float,
        gen: Generation,
    ) -> AsyncIterator[ChainEvent]:
        chunk, final = first, None
        try:
            while chunk is not None:
                if chunk.text:
                    if gen.first_token_ms is None:
                        gen.first_token_ms = round((self.clock() - start) * 1000, 2)
                    yield TokenEvent(text=chunk.text)
                if chunk.finish_reason is not None:
                    final = chunk
                    gen.usage = Usage(
                        prompt_tokens=chunk.prompt_tokens, completion_tokens=chunk.completion_tokens
                    )
                chunk = await anext(rest, None)
        except ModelError as error:
            attempt.outcome, attempt.error = "interrupted", f"{type(error).__name__}: {error}"
            await self._finish(backend, attempt, start, Usage())
            await close_quietly(rest)
            kind = "stream_interrupted" if isinstance(error, StreamInterrupted) else "model_error"
            yield error_event(kind, f"the answer from {backend} broke off: {error}")
            return
        attempt.outcome = "ok"
        await self._finish(backend, attempt, start, gen.usage)
        yield await self._who(backend, final)

    async def _who(self, backend: str, final: GenerationChunk | None) -> ServedEvent:
        """The model that generated: as the final chunk names it (a server that swaps models
        mid-flight says which engine answered), else as the backend describes itself now."""
        if final is not None and final.version is not None:
            return ServedEvent(backend=backend, model=final.model or backend, version=final.version)
        info = await self.llms[backend].describe()
        return ServedEvent(backend=backend, model=info.model, version=info.version)

    async def _finish(self, backend: str, attempt: Attempt, start: float, usage: Usage) -> None:
        await self.breakers.record(backend, attempt.outcome == "ok")
        if attempt.outcome != "ok":
            log.warning("backend %s %s: %s", backend, attempt.outcome, attempt.error)
        if self.observer is not None:
            self.observer.backend_call(backend, attempt.outcome, self.clock() - start, usage)
