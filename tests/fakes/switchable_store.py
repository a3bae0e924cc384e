"""A session store that can be switched off: an in-memory Redis stand-in for outage tests of
code that only sees the `SessionStore` protocol (the real-Redis outage test stops a server)."""

from __future__ import annotations

from typing import Any

from conversation.errors import SessionStoreDown
from conversation.sessions import Change, MemorySessionStore, Session


class SwitchableStore:
    kind = "redis"
    degraded = False

    def __init__(self, data: MemorySessionStore | None = None) -> None:
        """`data`: shared with another switch, for two replicas that see one Redis apart."""
        self.data = data or MemorySessionStore(ttl_s=3600)
        self.up = True

    def _check(self) -> None:
        if not self.up:
            raise SessionStoreDown("redis", "connection refused (switched off)")

    async def create(self, user_id: str, profile: dict[str, Any]) -> Session:
        self._check()
        return await self.data.create(user_id, profile)

    async def get(self, session_id: str) -> Session | None:
        self._check()
        return await self.data.get(session_id)

    async def update(self, session_id: str, change: Change) -> None:
        self._check()
        await self.data.update(session_id, change)

    async def save(self, session: Session) -> None:
        self._check()
        await self.data.save(session)

    async def end(self, session_id: str) -> Session | None:
        self._check()
        return await self.data.end(session_id)

    async def ping(self) -> None:
        self._check()
