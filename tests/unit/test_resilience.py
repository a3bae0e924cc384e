"""Retries before the first token: which errors, how long, and never past the deadline."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from models.backend import GenerationChunk
from models.errors import BackendUnavailable, RateLimited, RequestRejected, UpstreamError
from models.resilience import Deadline, RetryPolicy, open_stream

FAST = RetryPolicy(max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.02)


def flaky(errors: list[Exception], calls: list[int]):
    def start() -> AsyncIterator[GenerationChunk]:
        async def stream() -> AsyncIterator[GenerationChunk]:
            calls.append(1)
            if errors:
                raise errors.pop(0)
            yield GenerationChunk("hello")
            yield GenerationChunk("", "stop")

        return stream()

    return start


async def test_retryable_errors_are_retried_until_a_first_token_arrives():
    calls: list[int] = []
    errors: list[Exception] = [UpstreamError("500", 500), BackendUnavailable("refused")]
    first, _ = await open_stream(flaky(errors, calls), FAST, Deadline.after(5))
    assert first is not None and first.text == "hello" and len(calls) == 3


async def test_a_client_error_is_not_retried():
    calls: list[int] = []
    with pytest.raises(RequestRejected):
        await open_stream(flaky([RequestRejected("bad", 400)], calls), FAST, Deadline.after(5))
    assert len(calls) == 1


async def test_attempts_are_bounded():
    calls: list[int] = []
    errors: list[Exception] = [UpstreamError("500", 500) for _ in range(5)]
    with pytest.raises(UpstreamError):
        await open_stream(flaky(errors, calls), FAST, Deadline.after(5))
    assert len(calls) == 3


async def test_retry_after_is_honoured():
    calls: list[int] = []
    start = time.monotonic()
    await open_stream(flaky([RateLimited("429", 0.3)], calls), FAST, Deadline.after(5))
    assert time.monotonic() - start >= 0.3 and len(calls) == 2


async def test_a_retry_that_would_outlive_the_deadline_is_not_made():
    calls: list[int] = []
    start = time.monotonic()
    with pytest.raises(RateLimited):
        await open_stream(flaky([RateLimited("429", 5.0)], calls), FAST, Deadline.after(1))
    assert len(calls) == 1 and time.monotonic() - start < 1
