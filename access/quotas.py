"""Quotas per user and role: a burst limit (questions a minute), a daily question limit and a
daily token budget (prompt and completion tokens).

Enforced atomically where every ingress replica sees the same counts: one Lua script in Redis
checks all three limits and counts the question in one step, so with N replicas the limit is
the limit, not N times it (a check-then-increment from each replica would let N requests
through at the edge). Without Redis, one process's memory does the same (one machine).
Windows are fixed (the UTC minute, the UTC day): simple, and what an operator can read off a
counter; at a minute's edge a student may ask a burst twice within seconds.

While Redis is down, each replica counts in its own memory (`FallbackQuotaStore`): students
keep getting answers, and a limit holds per replica (at worst the limit times the replicas)
until Redis answers again; /health/detailed says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import redis.asyncio as aioredis
from pydantic import BaseModel, ConfigDict, Field

from access.errors import QuotaExceeded
from access.principal import Principal, Role

log = logging.getLogger(__name__)
DAY_S, MINUTE_S = 86_400, 60
LIMITS = ("burst", "daily_questions", "daily_tokens")
T = TypeVar("T")


class QuotaPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    burst_per_minute: int = Field(20, ge=1, description="Questions in one UTC minute.")
    questions_per_day: int = Field(300, ge=1, description="Questions in one UTC day.")
    tokens_per_day: int = Field(200_000, ge=1, description="Prompt + completion tokens a day.")


def default_policies() -> dict[Role, QuotaPolicy]:
    return {
        "student": QuotaPolicy(),
        "teacher": QuotaPolicy(burst_per_minute=60, questions_per_day=2_000),
        "service": QuotaPolicy(
            burst_per_minute=600, questions_per_day=50_000, tokens_per_day=20_000_000
        ),
    }


class QuotaConfig(BaseModel):
    """The quotas part of the ingress's `user_config`. A role missing from `roles` is not
    limited (admins, by default)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    roles: dict[Role, QuotaPolicy] = Field(default_factory=lambda: default_policies())


@dataclass(frozen=True)
class Allowance:
    """What is left after an admitted question: for the `X-RateLimit-*` headers."""

    limit: int
    remaining: int
    reset_s: int


@dataclass(frozen=True)
class Windows:
    minute: int
    day: int
    minute_left_s: int
    day_left_s: int

    @classmethod
    def at(cls, now: float) -> Windows:
        seconds = int(now)
        return cls(
            seconds // MINUTE_S,
            seconds // DAY_S,
            MINUTE_S - seconds % MINUTE_S,
            DAY_S - seconds % DAY_S,
        )


def refused(code: int, policy: QuotaPolicy, windows: Windows) -> QuotaExceeded:
    if code == 1:
        return QuotaExceeded("burst", policy.burst_per_minute, windows.minute_left_s)
    if code == 2:
        return QuotaExceeded("daily_questions", policy.questions_per_day, windows.day_left_s)
    return QuotaExceeded("daily_tokens", policy.tokens_per_day, windows.day_left_s)


class QuotaStore(Protocol):
    """`count` atomically checks the three limits and counts one question; it returns a code
    (0 admitted, 1 burst, 2 daily questions, 3 daily tokens) and the minute's count. `spend`
    adds tokens to the day's budget. A store that cannot be reached raises."""

    @property
    def kind(self) -> str: ...

    async def count(self, user: str, policy: QuotaPolicy, windows: Windows) -> tuple[int, int]: ...

    async def spend(self, user: str, tokens: int, windows: Windows) -> None: ...


# KEYS: burst (this minute), questions (today), tokens (today). ARGV: the three limits.
COUNT_SCRIPT = """
local burst = tonumber(redis.call('GET', KEYS[1]) or '0')
local day = tonumber(redis.call('GET', KEYS[2]) or '0')
local tokens = tonumber(redis.call('GET', KEYS[3]) or '0')
if tokens >= tonumber(ARGV[3]) then return {3, burst} end
if day >= tonumber(ARGV[2]) then return {2, burst} end
if burst >= tonumber(ARGV[1]) then return {1, burst} end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], 120)
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], 172800)
return {0, burst + 1}
"""


class RedisQuotaStore:
    kind = "redis"

    def __init__(self, client: aioredis.Redis, prefix: str = "tutor:quota:") -> None:
        self._redis: Any = client  # redis-py's script and reply types are loose
        self._prefix = prefix
        self._count = self._redis.register_script(COUNT_SCRIPT)

    def _keys(self, user: str, windows: Windows) -> list[str]:
        p = self._prefix
        return [
            f"{p}b:{user}:{windows.minute}",
            f"{p}q:{user}:{windows.day}",
            f"{p}t:{user}:{windows.day}",
        ]

    async def count(self, user: str, policy: QuotaPolicy, windows: Windows) -> tuple[int, int]:
        limits = [policy.burst_per_minute, policy.questions_per_day, policy.tokens_per_day]
        code, burst = await self._count(keys=self._keys(user, windows), args=limits)
        return int(code), int(burst)

    async def spend(self, user: str, tokens: int, windows: Windows) -> None:
        key = self._keys(user, windows)[2]
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(key, tokens)
            pipe.expire(key, 2 * DAY_S)
            await pipe.execute()


class MemoryQuotaStore:
    """One process's counts; each call runs without an await inside, so it is atomic."""

    kind = "memory"

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, int], int] = {}

    async def count(self, user: str, policy: QuotaPolicy, windows: Windows) -> tuple[int, int]:
        burst = self._counts.get((user, "b", windows.minute), 0)
        day = self._counts.get((user, "q", windows.day), 0)
        if self._counts.get((user, "t", windows.day), 0) >= policy.tokens_per_day:
            return 3, burst
        if day >= policy.questions_per_day:
            return 2, burst
        if burst >= policy.burst_per_minute:
            return 1, burst
        self._counts[(user, "b", windows.minute)] = burst + 1
        self._counts[(user, "q", windows.day)] = day + 1
        return 0, burst + 1

    async def spend(self, user: str, tokens: int, windows: Windows) -> None:
        key = (user, "t", windows.day)
        self._counts[key] = self._counts.get(key, 0) + tokens


class FallbackQuotaStore:
    """Redis while it answers; this replica's memory while it does not (tried again every
    `retry_s`). Counts made in memory are not carried over: for a few seconds' outage they
    are small beside a day's limits."""

    def __init__(
        self,
        primary: QuotaStore,
        retry_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.local = MemoryQuotaStore()
        self._retry_s = retry_s
        self._clock = clock
        self._down_at: float | None = None

    @property
    def kind(self) -> str:
        return self.primary.kind if self._down_at is None else "memory (Redis unreachable)"

    @property
    def degraded(self) -> bool:
        return self._down_at is not None

    async def count(self, user: str, policy: QuotaPolicy, windows: Windows) -> tuple[int, int]:
        counted = await self._primary(lambda: self.primary.count(user, policy, windows))
        return counted if counted is not None else await self.local.count(user, policy, windows)

    async def spend(self, user: str, tokens: int, windows: Windows) -> None:
        if await self._primary(lambda: self._then_true(self.primary.spend(user, tokens, windows))):
            return
        await self.local.spend(user, tokens, windows)

    async def _primary(self, call: Callable[[], Awaitable[T]]) -> T | None:
        if self._down_at is not None and self._clock() - self._down_at < self._retry_s:
            return None
        try:
            result = await call()
        except aioredis.RedisError as exc:
            if self._down_at is None:
                log.warning("Redis unavailable, quotas count per replica: %s", exc)
            self._down_at = self._clock()
            return None
        self._down_at = None
        return result

    @staticmethod
    async def _then_true(call: Awaitable[None]) -> bool:
        await call
        return True


class Quotas:
    def __init__(
        self,
        store: QuotaStore,
        config: QuotaConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.config = config or QuotaConfig()
        self._clock = clock

    def policy_for(self, principal: Principal) -> QuotaPolicy | None:
        return self.config.roles.get(principal.role) if self.config.enabled else None

    async def admit(self, principal: Principal) -> Allowance | None:
        """Count one question, or raise `QuotaExceeded` naming the limit; None: not limited."""
        policy = self.policy_for(principal)
        if policy is None:
            return None
        windows = Windows.at(self._clock())
        code, burst = await self.store.count(principal.user_id, policy, windows)
        if code:
            raise refused(code, policy, windows)
        remaining = policy.burst_per_minute - burst
        return Allowance(policy.burst_per_minute, remaining, windows.minute_left_s)

    async def spend(self, principal: Principal, tokens: int) -> None:
        """Add `tokens` to the day's budget; a negative number refunds an over-estimate."""
        if tokens and self.policy_for(principal) is not None:
            await self.store.spend(principal.user_id, tokens, Windows.at(self._clock()))
