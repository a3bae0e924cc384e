"""Where items wait for their check: Redis (shared by every ingress replica), or one process's
memory when there is no Redis. An item lives for the practice TTL; its first check is the one
that counts in the student's progress (a second check is graded, not counted again)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

import redis.asyncio as aioredis

from practice.errors import PracticeStoreDown
from practice.items import PracticeItem


class PracticeStore(Protocol):
    async def put(self, item: PracticeItem) -> None: ...

    async def get(self, item_id: str) -> PracticeItem | None: ...

    async def first_check(self, item_id: str) -> bool:
        """True exactly once per item: for the check that counts."""
        ...


@contextmanager
def redis_errors() -> Iterator[None]:
    try:
        yield
    except aioredis.RedisError as exc:
        raise PracticeStoreDown(f"redis: {type(exc).__name__}: {exc}") from exc


class RedisPracticeStore:
    def __init__(self, client: aioredis.Redis, ttl_s: int, prefix: str = "tutor:practice:") -> None:
        self._redis = client
        self._ttl_s = ttl_s
        self._prefix = prefix

    async def put(self, item: PracticeItem) -> None:
        with redis_errors():
            await self._redis.set(
                self._prefix + item.item_id, item.model_dump_json(), ex=self._ttl_s
            )

    async def get(self, item_id: str) -> PracticeItem | None:
        with redis_errors():
            raw = await self._redis.get(self._prefix + item_id)
        return None if raw is None else PracticeItem.model_validate_json(raw)

    async def first_check(self, item_id: str) -> bool:
        with redis_errors():
            first = await self._redis.set(
                f"{self._prefix}{item_id}:checked", "1", nx=True, ex=self._ttl_s
            )
        return bool(first)


class MemoryPracticeStore:
    def __init__(self, ttl_s: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._items: dict[str, tuple[float, PracticeItem]] = {}
        self._checked: set[str] = set()

    async def put(self, item: PracticeItem) -> None:
        now = self._clock()
        self._items = {k: v for k, v in self._items.items() if v[0] > now}  # drop the expired
        self._items[item.item_id] = (now + self._ttl_s, item)

    async def get(self, item_id: str) -> PracticeItem | None:
        entry = self._items.get(item_id)
        return entry[1] if entry is not None and entry[0] > self._clock() else None

    async def first_check(self, item_id: str) -> bool:
        first = item_id not in self._checked
        self._checked.add(item_id)
        return first
