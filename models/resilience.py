"""Retries before the first token: exponential backoff with jitter, Retry-After honoured,
only for retryable errors, and never past the request's deadline (tenacity does the looping)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from models.backend import GenerationChunk
from models.errors import BackendTimeout, RateLimited, RetryableError


class RetryPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(3, ge=1, le=10, description="Attempts per backend.")
    initial_backoff_s: float = Field(0.2, gt=0)
    max_backoff_s: float = Field(2.0, gt=0)
    first_token_timeout_s: float = Field(
        20.0, gt=0, description="An attempt with no first token by then is a timeout."
    )


class RetryOverride(BaseModel):
    """One backend's own call policy, over the router's `retry` (fields left out keep it)."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int | None = Field(None, ge=1, le=10)
    first_token_timeout_s: float | None = Field(
        None, gt=0, description="A remote tier's first token by then, or the next backend."
    )

    def over(self, policy: RetryPolicy) -> RetryPolicy:
        return policy.model_copy(update=self.model_dump(exclude_none=True))


@dataclass
class Deadline:
    """The request's time budget, shared by every attempt on every backend."""

    at: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    def remaining(self) -> float:
        return max(0.0, self.at - self.clock())


class stop_at_deadline(stop_base):  # noqa: N801 - tenacity's naming for stop conditions
    """Stop when the next wait would end past the deadline."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline

    def __call__(self, retry_state: RetryCallState) -> bool:
        upcoming = retry_state.upcoming_sleep or 0.0
        return upcoming >= self.deadline.remaining()


class wait_retry_after_or_backoff:  # noqa: N801 - tenacity's naming for wait strategies
    """A 429's Retry-After when the upstream sent one (never less), else jittered backoff."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.backoff = wait_random_exponential(
            multiplier=policy.initial_backoff_s, max=policy.max_backoff_s
        )

    def __call__(self, retry_state: RetryCallState) -> float:
        backoff: float = self.backoff(retry_state)
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, RateLimited) and error.retry_after_s is not None:
            return max(error.retry_after_s, backoff)
        return backoff


async def first_chunk(
    chunks: AsyncIterator[GenerationChunk], timeout_s: float
) -> GenerationChunk | None:
    """The stream's first chunk (None if it ends at once); a hang becomes `BackendTimeout`."""
    try:
        return await asyncio.wait_for(anext(chunks, None), timeout_s)
    except TimeoutError as exc:
        raise BackendTimeout(f"no first token within {timeout_s:.1f}s") from exc


async def open_stream(
    start: Callable[[], AsyncIterator[GenerationChunk]],
    policy: RetryPolicy,
    deadline: Deadline,
    on_retry: Callable[[BaseException], None] | None = None,
) -> tuple[GenerationChunk | None, AsyncIterator[GenerationChunk]]:
    """Start the stream until its first chunk arrives, retrying retryable failures.

    Returns the first chunk and the stream to continue from. Raises the last error when the
    attempts or the deadline run out; a non-retryable error is raised at once.
    """
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(RetryableError),
        wait=wait_retry_after_or_backoff(policy),
        stop=stop_after_attempt(policy.max_attempts) | stop_at_deadline(deadline),
        reraise=True,
        before_sleep=(lambda state: on_retry(state.outcome.exception())) if on_retry else None,  # type: ignore[union-attr, arg-type]
    )
    async for attempt in retrying:
        with attempt:
            chunks = start()
            budget = min(policy.first_token_timeout_s, max(deadline.remaining(), 0.001))
            try:
                return await first_chunk(chunks, budget), chunks
            except BaseException:
                await close_quietly(chunks)
                raise
    raise AssertionError("unreachable: tenacity reraises the last error")


async def close_quietly(chunks: AsyncIterator[GenerationChunk]) -> None:
    """Close an abandoned stream so the backend can abort the generation and free it."""
    aclose = getattr(chunks, "aclose", None) or getattr(chunks, "cancel", None)
    if aclose is None:
        return
    result = aclose()
    if hasattr(result, "__await__"):
        await result
