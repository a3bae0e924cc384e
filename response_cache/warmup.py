"""Cache warm-up: at start, answer the most asked questions of the past week (from the request
log) so that the first students to ask them get cached answers. One ingress replica does it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Protocol

import redis.asyncio as aioredis

log = logging.getLogger(__name__)
LOCK = "tutor:cache:warmup"


class Collected(Protocol):
    @property
    def complete(self) -> bool: ...


class Answering(Protocol):
    """What warms the cache: the tutor service, asking as a student would."""

    def ask_all(self, question: str, source: str = ...) -> Awaitable[Collected]: ...


async def claim(client: aioredis.Redis | None, ttl_s: int = 600) -> bool:
    """Only the replica that takes the lock warms up (without Redis: every replica)."""
    if client is None:
        return True
    return bool(await client.set(LOCK, "1", nx=True, ex=ttl_s))


async def warm_up(service: Answering, questions: list[str]) -> int:
    """Ask each question once (as `warmup`, so the request log does not count it again);
    returns how many were answered."""
    answered = 0
    for number, question in enumerate(questions, start=1):
        answer = await service.ask_all(question, source="warmup")
        answered += answer.complete
        log.info("cache warm-up %d/%d: %s", number, len(questions), question)
    return answered
