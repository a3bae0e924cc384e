"""The embedded session store: a named, detached Ray actor that every ingress replica shares.

Used when REDIS_URL is unset, so a single machine with no Redis still keeps conversations
consistent across replicas. It lives as long as the Ray cluster; Redis is the production choice.
"""

from __future__ import annotations

from typing import Any

import ray

from conversation.sessions import Change, MemorySessionStore, Session

ACTOR_NAME = "tutor-session-store"
NAMESPACE = "tutor"


class _SessionActor:
    def __init__(self, ttl_s: int) -> None:
        self._store = MemorySessionStore(ttl_s)

    async def create(self, user_id: str, profile: dict[str, Any]) -> Session:
        return await self._store.create(user_id, profile)

    async def get(self, session_id: str) -> Session | None:
        return await self._store.get(session_id)

    async def update(self, session_id: str, change: Change) -> None:
        await self._store.update(session_id, change)

    async def save(self, session: Session) -> None:
        await self._store.save(session)

    async def end(self, session_id: str) -> Session | None:
        return await self._store.end(session_id)


class RayActorSessionStore:
    kind = "ray-actor"
    degraded = False

    def __init__(self, ttl_s: int) -> None:
        actor_cls = ray.remote(num_cpus=0)(_SessionActor)
        self._actor: Any = actor_cls.options(  # type: ignore[attr-defined]
            name=ACTOR_NAME, namespace=NAMESPACE, lifetime="detached", get_if_exists=True
        ).remote(ttl_s)

    async def create(self, user_id: str, profile: dict[str, Any]) -> Session:
        session: Session = await self._actor.create.remote(user_id, profile)
        return session

    async def get(self, session_id: str) -> Session | None:
        session: Session | None = await self._actor.get.remote(session_id)
        return session

    async def update(self, session_id: str, change: Change) -> None:
        # The change runs inside the actor, one call at a time: atomic per session.
        await self._actor.update.remote(session_id, change)

    async def save(self, session: Session) -> None:
        await self._actor.save.remote(session)

    async def end(self, session_id: str) -> Session | None:
        session: Session | None = await self._actor.end.remote(session_id)
        return session

    async def ping(self) -> None:
        await self._actor.get.remote("")
