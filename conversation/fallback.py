"""Sessions that survive a Redis outage: this replica's memory stands in while Redis is down,
and what was written meanwhile is written back when it returns.

During an outage: new sessions live here; turns for sessions that are in Redis are queued;
a session this replica does not hold reads as absent (the query is answered without history).
The first operation after Redis answers again writes everything back, then Redis serves alone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from conversation.errors import SessionNotFound, SessionStoreDown
from conversation.sessions import Change, MemorySessionStore, Session, SessionStore

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_S = 2.0  # while degraded, how often an operation tries Redis again


class FallbackSessionStore:
    def __init__(
        self, primary: SessionStore, ttl_s: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.primary = primary
        self.local = MemorySessionStore(ttl_s, clock)
        self._clock = clock
        self._down_since: float | None = None
        self._last_try = 0.0
        self._created: set[str] = set()  # made here during the outage
        self._queued: dict[str, list[Change]] = {}  # changes to sessions that live in Redis

    @property
    def kind(self) -> str:
        return self.primary.kind

    @property
    def degraded(self) -> bool:
        return self._down_since is not None

    async def check(self) -> dict[str, Any]:
        """Health: try Redis (at most every RETRY_S while degraded), then report."""
        await self._primary(self.primary.ping)
        return self.status()

    def status(self) -> dict[str, Any]:
        if not self.degraded:
            return {"status": "healthy", "backend": self.kind}
        pending = len(self._created) + len(self._queued)
        return {
            "status": "degraded",
            "backend": f"{self.kind} (memory fallback)",
            "pending_write_back": pending,
        }

    async def _primary(self, call: Callable[[], Awaitable[T]], always: bool = False) -> T | None:
        """The call on Redis, or None (and degraded) when Redis does not answer. While degraded,
        Redis is tried again at most every RETRY_S, unless `always`."""
        if self.degraded and not always and self._clock() - self._last_try < RETRY_S:
            return None
        self._last_try = self._clock()
        try:
            result = await call()
        except SessionStoreDown as exc:
            if not self.degraded:
                log.warning("Redis unavailable, sessions fall back to memory: %s", exc)
                self._down_since = self._clock()
            return None
        if self.degraded:
            await self._write_back()
        return result

    async def _write_back(self) -> None:
        for session_id in sorted(self._created):
            session = await self.local.get(session_id)
            if session is not None:
                await self.primary.save(session)
        for session_id, changes in sorted(self._queued.items()):
            for change in changes:
                try:
                    await self.primary.update(session_id, change)
                except SessionNotFound:
                    log.warning(
                        "session %s expired during the outage; queued turns dropped", session_id
                    )
                    break
        log.info(
            "Redis is back: wrote back %d sessions and %d queued updates",
            len(self._created),
            len(self._queued),
        )
        self._created.clear()
        self._queued.clear()
        self._down_since = None

    async def create(self, user_id: str, profile: dict[str, Any]) -> Session:
        # Always Redis first: a session made in this replica's memory is unknown to the other
        # replicas until written back, so none is made there a moment longer than needed.
        session = await self._primary(lambda: self.primary.create(user_id, profile), always=True)
        if session is None:
            session = await self.local.create(user_id, profile)
            self._created.add(session.id)
        return session

    async def get(self, session_id: str) -> Session | None:
        if not self.degraded or session_id not in self._created:
            found = await self._primary(lambda: self.primary.get(session_id))
            if found is not None or not self.degraded:
                return found
        return await self.local.get(session_id)

    async def update(self, session_id: str, change: Change) -> None:
        if session_id in self._created:
            await self.local.update(session_id, change)
            return
        done = await self._primary(lambda: self._then_true(self.primary.update(session_id, change)))
        if done is None:
            self._queued.setdefault(session_id, []).append(change)

    async def save(self, session: Session) -> None:
        if await self._primary(lambda: self._then_true(self.primary.save(session))) is None:
            await self.local.save(session)
            self._created.add(session.id)

    async def end(self, session_id: str) -> Session | None:
        if session_id in self._created:
            self._created.discard(session_id)
            return await self.local.end(session_id)
        ended = await self._primary(lambda: self.primary.end(session_id))
        if ended is None and self.degraded:
            raise SessionStoreDown("redis", "sessions are read-only until Redis is back")
        return ended

    async def ping(self) -> None:
        await self.primary.ping()

    @staticmethod
    async def _then_true(call: Awaitable[None]) -> bool:
        await call
        return True
