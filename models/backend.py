"""The LLM backend seam: one protocol for vLLM, OpenAI-compatible servers and any other engine."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


@dataclass(frozen=True)
class GenerationRequest:
    messages: list[ChatMessage]
    max_tokens: int = 256
    temperature: float = 0.0
    request_id: str = ""
    # How the LLM node sends the stream back through Serve: lists of chunks (the router asks
    # for them) or one chunk a message (what a router of a release before stream batching
    # expects; a replica of that release ignores the field). Both ways work mid-upgrade.
    batched_stream: bool = False


@dataclass(frozen=True)
class GenerationChunk:
    """A text delta. The last chunk of a stream carries `finish_reason` and the token counts."""

    text: str
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # Set on the final chunk by a server that can swap models: who actually generated it.
    model: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class ModelInfo:
    """What produced an answer: the served name and the exact version (path/hash or upstream id)."""

    backend: str
    model: str
    version: str


class LLMBackend(ABC):
    """Streams a chat completion.

    Contract:
    - `stream` yields `GenerationChunk`s in order; the final chunk has `finish_reason` set.
    - Before the first chunk, a failure raises a `models.errors.ModelError` subclass, so the
      caller may retry or fall back. After the first chunk, a failure raises
      `StreamInterrupted`: the caller has already shown tokens and must say the answer broke.
    - Cancellation: when the consumer stops iterating (`aclose()` or task cancellation), the
      backend aborts the generation upstream and frees what it holds.
    - `check` is the replica's liveness: it raises a `ModelError` when this process cannot serve
      any more (a failed engine). It never calls a remote upstream: an upstream's outage is the
      circuit breaker's business, and a replica restarted for it would come back no better.
    - `probe` asks the upstream itself (for `/health/detailed`); by default it is `check`.
    """

    info: ModelInfo

    @abstractmethod
    def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]: ...

    @abstractmethod
    async def check(self) -> None: ...

    async def probe(self) -> None:
        await self.check()

    async def describe(self) -> ModelInfo:
        return self.info

    async def close(self) -> None:  # noqa: B027 - optional hook; most backends hold nothing
        """Free engines and connections; the backend is unusable afterwards."""


async def complete(backend: LLMBackend, request: GenerationRequest) -> tuple[str, GenerationChunk]:
    """Collect a whole stream: (text, final chunk)."""
    parts: list[str] = []
    last = GenerationChunk(text="")
    async for chunk in backend.stream(request):
        parts.append(chunk.text)
        last = chunk
    return "".join(parts), last
