"""OpenAI-backed generation through the official client; any OpenAI-compatible server works."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
from openai import AsyncOpenAI, AsyncStream
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletionChunk

from models.backend import GenerationChunk, GenerationRequest, LLMBackend, ModelInfo
from models.errors import (
    BackendTimeout,
    BackendUnavailable,
    ModelError,
    RateLimited,
    RequestRejected,
    StreamInterrupted,
    UpstreamError,
)


def retry_after_seconds(error: openai.APIStatusError) -> float | None:
    value = error.response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP-date Retry-After; the backoff schedule applies instead


def translate(error: openai.OpenAIError) -> ModelError:
    """The client's exceptions mapped onto the project's retryable / not-retryable classes."""
    if isinstance(error, openai.APITimeoutError):
        return BackendTimeout(str(error))
    if isinstance(error, openai.APIConnectionError):
        return BackendUnavailable(str(error))
    if isinstance(error, openai.RateLimitError):
        return RateLimited(str(error), retry_after_seconds(error))
    if isinstance(error, openai.APIStatusError) and error.status_code >= 500:
        return UpstreamError(str(error), error.status_code)
    if isinstance(error, openai.APIStatusError):
        return RequestRejected(str(error), error.status_code)
    return UpstreamError(str(error), 502)


class OpenAIBackend(LLMBackend):
    """Chat completions from `model` at `base_url`; the client's own retries are off (the
    router owns retry policy, so that attempts are counted once and bounded by the deadline)."""

    def __init__(
        self,
        model: str,
        api_key: str,
        base_url: str | None = None,
        timeout_s: float = 30.0,
        client: AsyncOpenAI | None = None,
        connect_timeout_s: float = 2.0,
    ) -> None:
        # A dead upstream costs at most the connect timeout; a slow one, the read timeout.
        timeout = openai.Timeout(timeout_s, connect=connect_timeout_s)
        self._client = client or AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0
        )
        self._probe_timeout_s = min(timeout_s, 5.0)
        self.info = ModelInfo(backend="openai", model=model, version=model)

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        response = await self._open(request)
        sent, finish, usage = 0, None, None
        try:
            async for event in response:
                usage = event.usage or usage
                for choice in event.choices[:1]:
                    finish = choice.finish_reason or finish
                    if choice.delta and choice.delta.content:
                        sent += 1
                        yield GenerationChunk(choice.delta.content)
        except (openai.OpenAIError, httpx.HTTPError) as error:
            raise StreamInterrupted(f"upstream stream broke: {error}", sent) from error
        finally:
            await response.close()
        if finish is None:
            # The connection closed without a finish reason: a truncated answer, not a short one.
            raise StreamInterrupted("upstream stream ended without a finish reason", sent)
        yield final_chunk(finish, usage)

    async def _open(self, request: GenerationRequest) -> AsyncStream[ChatCompletionChunk]:
        messages: list[Any] = [{"role": m.role, "content": m.content} for m in request.messages]
        try:
            return await self._client.chat.completions.create(
                model=self.info.model,
                messages=messages,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                stream=True,
                stream_options={"include_usage": True},
            )
        except openai.OpenAIError as error:
            raise translate(error) from error

    async def check(self) -> None:
        """Liveness of this replica: the client is open. The upstream is not asked (`probe`)."""
        if self._client.is_closed():
            raise BackendUnavailable(f"the client for {self.info.model} is closed")

    async def probe(self) -> None:
        try:
            await self._client.models.list(timeout=self._probe_timeout_s)
        except openai.OpenAIError as error:
            raise translate(error) from error

    async def close(self) -> None:
        await self._client.close()


def final_chunk(finish_reason: str, usage: CompletionUsage | None) -> GenerationChunk:
    if usage is None:  # servers that ignore stream_options send no usage
        return GenerationChunk("", finish_reason)
    return GenerationChunk("", finish_reason, usage.prompt_tokens, usage.completion_tokens)
