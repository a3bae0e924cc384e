"""Conversation sessions: the `SessionStore` seam and its Redis and in-memory backends."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

import redis.asyncio as aioredis
from pydantic import BaseModel, Field

from conversation.errors import SessionNotFound, SessionStoreDown

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")
Change = Callable[["Session"], "Session"]


def new_session_id() -> str:
    """192 random bits, URL-safe: unguessable, so knowing one id reveals nothing of another."""
    return secrets.token_urlsafe(24)


def now() -> datetime:
    return datetime.now(UTC)


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str
    at: datetime = Field(default_factory=now)
    source_ids: list[str] = Field(default_factory=list)
    topic: str = ""  # an answer's top source title: what a follow-up's "it" refers to


class Session(BaseModel):
    id: str
    user_id: str
    created_at: datetime = Field(default_factory=now)
    updated_at: datetime = Field(default_factory=now)
    turns: list[Turn] = Field(default_factory=list)
    summary: str = ""
    summarized: int = 0  # how many of the oldest turns the summary covers
    profile: dict[str, Any] = Field(default_factory=dict)


def with_turns(turns: list[Turn]) -> Change:
    def change(session: Session) -> Session:
        return session.model_copy(update={"turns": [*session.turns, *turns], "updated_at": now()})

    return change


def with_summary(summary: str, covered: int) -> Change:
    def change(session: Session) -> Session:
        if covered <= session.summarized:
            return session  # a newer summary already landed
        return session.model_copy(update={"summary": summary, "summarized": covered})

    return change


class SessionStore(Protocol):
    """Where active sessions live, shared by every ingress replica.

    Contract: `get` returns None for an unknown or expired id; `update` and `end` raise
    `SessionNotFound` for one. `update` applies a change atomically (two replicas writing one
    session never lose a turn) and renews the idle expiry; `save` writes a whole session.
    `end` removes the session and returns its last state (for archiving). A backend that
    cannot be reached raises `SessionStoreDown`.
    """

    @property
    def kind(self) -> str: ...

    @property
    def degraded(self) -> bool:
        """Serving from a stand-in: sessions unknown to it read as absent."""
        ...

    async def create(self, user_id: str, profile: dict[str, Any]) -> Session: ...

    async def get(self, session_id: str) -> Session | None: ...

    async def update(self, session_id: str, change: Change) -> None: ...

    async def save(self, session: Session) -> None: ...

    async def end(self, session_id: str) -> Session | None: ...

    async def ping(self) -> None: ...


@contextmanager
def redis_errors() -> Iterator[None]:
    """Redis failures surface as `SessionStoreDown("redis")`, which the API maps to a 503."""
    try:
        yield
    except aioredis.RedisError as exc:
        raise SessionStoreDown("redis", f"{type(exc).__name__}: {exc}") from exc


class RedisSessionStore:
    """A session is a JSON document under one key with an idle TTL, changed under WATCH/MULTI."""

    kind = "redis"
    degraded = False

    def __init__(self, client: aioredis.Redis, ttl_s: int, prefix: str = "tutor:session:") -> None:
        self._redis = client
        self._ttl_s = ttl_s
        self._prefix = prefix

    async def close(self) -> None:
        await self._redis.aclose()

    def _key(self, session_id: str) -> str:
        return self._prefix + session_id

    async def create(self, user_id: str, profile: dict[str, Any]) -> Session:
        session = Session(id=new_session_id(), user_id=user_id, profile=profile)
        await self.save(session)
        return session

    async def save(self, session: Session) -> None:
        with redis_errors():
            await self._redis.set(self._key(session.id), session.model_dump_json(), ex=self._ttl_s)

    async def get(self, session_id: str) -> Session | None:
        with redis_errors():
            raw = await self._redis.get(self._key(session_id))
        return None if raw is None else Session.model_validate_json(raw)

    async def update(self, session_id: str, change: Change) -> None:
        with redis_errors():
            await self._update(session_id, change)

    async def _update(self, session_id: str, change: Change) -> None:
        key = self._key(session_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    raw = await pipe.get(key)
                    if raw is None:
                        raise SessionNotFound(session_id)
                    session = change(Session.model_validate_json(raw))
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.set(key, session.model_dump_json(), ex=self._ttl_s)
                    await pipe.execute()
                    return
                except aioredis.WatchError:
                    continue  # another replica wrote this session meanwhile: re-read, re-apply

    async def end(self, session_id: str) -> Session | None:
        with redis_errors():
            raw = await self._redis.getdel(self._key(session_id))
        if raw is None:
            raise SessionNotFound(session_id)
        return Session.model_validate_json(raw)

    async def ping(self) -> None:
        with redis_errors():
            await self._redis.ping()


class MemorySessionStore:
    """Sessions in one process's memory with idle expiry; the embedded default's engine."""

    kind = "memory"
    degraded = False

    def __init__(self, ttl_s: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._sessions: dict[str, tuple[float, Session]] = {}

    async def create(self, user_id: str, profile: dict[str, Any]) -> Session:
        session = Session(id=new_session_id(), user_id=user_id, profile=profile)
        await self.save(session)
        return session

    async def save(self, session: Session) -> None:
        self._sessions[session.id] = (self._clock() + self._ttl_s, session)

    async def get(self, session_id: str) -> Session | None:
        entry = self._sessions.get(session_id)
        if entry is None or entry[0] <= self._clock():
            self._sessions.pop(session_id, None)
            return None
        return entry[1]

    async def update(self, session_id: str, change: Change) -> None:
        session = await self.get(session_id)
        if session is None:
            raise SessionNotFound(session_id)
        await self.save(change(session))

    async def end(self, session_id: str) -> Session | None:
        session = await self.get(session_id)
        if session is None:
            raise SessionNotFound(session_id)
        del self._sessions[session_id]
        return session

    async def ping(self) -> None:
        return None
