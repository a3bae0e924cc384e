"""An in-process LLM backend for unit tests: answers from its prompt's first source, streamed.

It honours the `LLMBackend` contract (chunks in order, a final chunk with finish_reason and
token counts), and can be told to fail before or after the first token.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from models.backend import GenerationChunk, GenerationRequest, LLMBackend, ModelInfo
from models.errors import BackendUnavailable, StreamInterrupted

FIRST_SOURCE = re.compile(r"^\[1\] (.+)$", re.MULTILINE)


class EchoSourceBackend(LLMBackend):
    def __init__(self, fail: str | None = None) -> None:
        self.info = ModelInfo(backend="test", model="echo-source", version="echo-source@1")
        self.fail = fail  # None, "before" or "after" the first token, or "hang" before it
        self.requests: list[GenerationRequest] = []

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        self.requests.append(request)
        if self.fail == "before":
            raise BackendUnavailable("test backend is down")
        if self.fail == "hang":
            await asyncio.sleep(3600)  # an upstream that accepted the call and never answers
        match = FIRST_SOURCE.search(request.messages[0].content)
        words = f"From [1]: {match.group(1) if match else 'I do not know.'}".split()
        for number, word in enumerate(words):
            if self.fail == "after" and number == 2:
                raise StreamInterrupted("test backend dropped the stream", number)
            yield GenerationChunk(word + " ")
        yield GenerationChunk("", "stop", prompt_tokens=10, completion_tokens=len(words))

    async def check(self) -> None:
        if self.fail == "before":
            raise BackendUnavailable("test backend is down")


class ScriptedBackend(LLMBackend):
    """Says the given answers in turn (the last one again after that), as a small model
    that gets a fact wrong would; records each request, so a test can read the prompts."""

    def __init__(self, *answers: str) -> None:
        self.info = ModelInfo(backend="test", model="scripted", version="scripted@1")
        self.answers = list(answers)
        self.requests: list[GenerationRequest] = []

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        words = answer.split()
        for word in words:
            yield GenerationChunk(word + " ")
        yield GenerationChunk("", "stop", prompt_tokens=10, completion_tokens=len(words))

    async def check(self) -> None:
        return None
