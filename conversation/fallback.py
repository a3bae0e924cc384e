"""Sessions that survive a Redis outage: this replica's memory stands in while Redis is down,
and what was written meanwhile is written back when it returns.

During an outage: new sessions live here; turns for sessions that are in Redis are queued;
a session this replica does not hold reads as absent (the query is answered without history).
While anything waits, Redis is tried every RECOVER_S in the background, and the first call
that reaches it writes everything back; then Redis serves alone.

A session made here carries a mark in its id. Another replica that sees Redis up but not the
session waits up to WRITE_BACK_WAIT_S for the write-back rather than answering 404: without
it, a session started on a replica whose Redis call had just failed was unknown to the other
replica until its next question happened to land on the first one.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from conversation.errors import SessionNotFound, SessionStoreDown
from conversation.sessions import Change, MemorySessionStore, Session, SessionStore

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_S = 2.0  # while degraded, how often an operation tries Redis again
RECOVER_S = 0.5  # while writes wait, how often the background task tries Redis
WRITE_BACK_WAIT_S = 4.0  # how long a replica waits for another's write-back of a marked id
OUTAGE_MARK = "__"  # begins the id of a session made in memory (1 in 4096 ordinary ids do too)


def outage_session_id() -> str:
    """As long and as random as an ordinary id (186 random bits), marked."""
    return OUTAGE_MARK + secrets.token_urlsafe(24)[: 32 - len(OUTAGE_MARK)]


def made_during_outage(session_id: str) -> bool:
    return session_id.startswith(OUTAGE_MARK)


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
        self._writing_back = asyncio.Lock()  # one write-back at a time: each change once
        self._recovery: asyncio.Task[None] | None = None

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
            self._went_down(exc)
            return None
        if self.degraded:
            await self._write_back()
        return result

    def _went_down(self, exc: SessionStoreDown) -> None:
        if not self.degraded:
            log.warning("Redis unavailable, sessions fall back to memory: %s", exc)
            self._down_since = self._clock()
        if self._recovery is None or self._recovery.done():
            self._recovery = asyncio.get_running_loop().create_task(self._recover())

    async def _recover(self) -> None:
        """Try Redis until it answers (which writes everything back), not only when a student's
        next request happens to reach this replica."""
        while self.degraded:
            await asyncio.sleep(RECOVER_S)
            await self._primary(self.primary.ping, always=True)

    async def _write_back(self) -> None:
        async with self._writing_back:
            if not self.degraded:
                return  # another call wrote back while this one waited for the lock
            try:
                sessions, updates = await self._write_pending()
            except SessionStoreDown as exc:
                log.warning("Redis failed again during write-back; will retry: %s", exc)
                return
            log.info("Redis is back: wrote back %d sessions and %d updates", sessions, updates)
            self._down_since = None

    async def _write_pending(self) -> tuple[int, int]:
        """Each item leaves the pending sets once written, so a retry repeats none."""
        sessions = updates = 0
        for session_id in sorted(self._created):
            session = await self.local.get(session_id)
            if session is not None:
                await self.primary.save(session)
                sessions += 1
            self._created.discard(session_id)
        for session_id in sorted(self._queued):
            changes = self._queued[session_id]
            while changes:
                try:
                    await self.primary.update(session_id, changes[0])
                except SessionNotFound:
                    log.warning("session %s expired during the outage; turns dropped", session_id)
                    break
                changes.pop(0)
                updates += 1
            del self._queued[session_id]
        return sessions, updates

    async def create(self, user_id: str, profile: dict[str, Any]) -> Session:
        # Always Redis first: a session made in this replica's memory is unknown to the other
        # replicas until written back, so none is made there a moment longer than needed.
        session = await self._primary(lambda: self.primary.create(user_id, profile), always=True)
        if session is None:
            session = Session(id=outage_session_id(), user_id=user_id, profile=profile)
            await self.local.save(session)
            self._created.add(session.id)
        return session

    async def get(self, session_id: str) -> Session | None:
        if not self.degraded or session_id not in self._created:
            found = await self._primary(lambda: self.primary.get(session_id))
            if found is None and not self.degraded and made_during_outage(session_id):
                found = await self._written_back(session_id)
            if found is not None or not self.degraded:
                return found
        return await self.local.get(session_id)

    async def _written_back(self, session_id: str) -> Session | None:
        """A session another replica made during an outage, once it has written it back."""
        for _ in range(round(WRITE_BACK_WAIT_S / (RECOVER_S / 2))):
            await asyncio.sleep(RECOVER_S / 2)
            found = await self._primary(lambda: self.primary.get(session_id), always=True)
            if found is not None or self.degraded:
                return found
        return None

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
