"""The tutor service behind the HTTP API: sessions, profiles, the router, and the request log.

Plain Python; the ingress deployment holds one per replica, the single-process baseline one.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any, Protocol

from cluster.db import RequestLog, RequestLogRow, UserProfile, Users
from cluster.errors import DependencyDown, SessionForbidden, SessionNotFound, UserNotFound
from cluster.metrics import Metrics
from cluster.sessions import Session, SessionStore, Turn
from models.backend import ChatMessage
from models.router import QueryPlan, SearchOutcome

log = logging.getLogger(__name__)
ANONYMOUS = "anonymous"


class Router(Protocol):
    def search(self, question: str, subject: str | None, k: int) -> Awaitable[SearchOutcome]: ...

    def answer(self, plan: QueryPlan) -> AsyncIterator[dict[str, Any]]: ...


@dataclass
class Query:
    """A validated query as the API received it."""

    question: str
    session_id: str | None = None
    user_id: str | None = None
    subject: str | None = None
    k: int = 5


@dataclass
class Answer:
    """Collected from the router's events; what a non-streaming client receives."""

    session_id: str | None
    parts: list[str] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    degraded: list[dict[str, str]] = field(default_factory=list)
    done: dict[str, Any] = field(default_factory=dict)
    error: dict[str, str] | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts).strip()

    def absorb(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "sources":
            self.sources, self.degraded = event["sources"], event["degraded"]
        elif kind == "token":
            self.parts.append(event["text"])
        elif kind == "done":
            self.done = event
        elif kind == "error":
            self.error = event["error"]


def history_messages(session: Session | None, max_turns: int = 6) -> list[ChatMessage]:
    if session is None:
        return []
    return [ChatMessage(t.role, t.content) for t in session.turns[-max_turns:]]


def profile_note(profile: dict[str, Any]) -> str:
    level = profile.get("class_level")
    subjects = ", ".join(profile.get("subjects") or [])
    parts = [f"class level {level}" if level else "", f"studies {subjects}" if subjects else ""]
    return "; ".join(p for p in parts if p)


class TutorService:
    def __init__(
        self,
        router: Router,
        sessions: SessionStore,
        users: Users | None = None,
        request_log: RequestLog | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.router = router
        self.sessions = sessions
        self.users = users
        self.request_log = request_log
        self.metrics = metrics

    async def start_session(self, user_id: str | None) -> Session:
        profile = await self._profile(user_id)
        return await self.sessions.create(user_id or ANONYMOUS, profile)

    async def session(self, session_id: str, user_id: str | None) -> Session:
        session = await self.sessions.get(session_id)
        if session is None:
            raise SessionNotFound(session_id)
        if user_id is not None and session.user_id != user_id:
            raise SessionForbidden(session_id)
        return session

    async def end_session(self, session_id: str, user_id: str | None) -> Session:
        await self.session(session_id, user_id)  # ownership check before the destructive end
        ended = await self.sessions.end(session_id)
        if ended is None:
            raise SessionNotFound(session_id)
        return ended

    async def search(self, question: str, subject: str | None, k: int) -> SearchOutcome:
        start = time.perf_counter()
        outcome = await self.router.search(question, subject, k)
        if self.metrics is not None:
            self.metrics.request("search", "ok", time.perf_counter() - start)
        return outcome

    async def ask(self, query: Query) -> AsyncIterator[dict[str, Any]]:
        """The router's events, with the session updated and the request logged at the end."""
        start = time.perf_counter()
        session = await self.session(query.session_id, query.user_id) if query.session_id else None
        plan = QueryPlan(
            question=query.question,
            subject=query.subject,
            k=query.k,
            history=history_messages(session),
            profile_note=profile_note(session.profile if session else {}),
            request_id=uuid.uuid4().hex,
        )
        answer = Answer(session_id=query.session_id)
        async for event in self.router.answer(plan):
            answer.absorb(event)
            yield event
        await self._remember(query, answer)
        latency_s = time.perf_counter() - start
        self._log(plan, query, answer, latency_s * 1000)
        if self.metrics is not None:
            self.metrics.request("query", "error" if answer.error else "ok", latency_s)
            self.metrics.model_call(answer.done)

    async def _remember(self, query: Query, answer: Answer) -> None:
        if query.session_id is None or answer.error is not None:
            return  # a failed answer is not part of the conversation
        source_ids = [s["id"] for s in answer.sources]
        await self.sessions.append(
            query.session_id,
            [
                Turn(role="user", content=query.question),
                Turn(role="assistant", content=answer.text, source_ids=source_ids),
            ],
        )

    async def _profile(self, user_id: str | None) -> dict[str, Any]:
        """The user's profile for the session; a user with none yet starts with an empty one."""
        if user_id is None or self.users is None:
            return {}
        try:
            profile: UserProfile = await self.users.get(user_id)
        except UserNotFound:
            return {}
        return profile.model_dump(exclude={"id"})

    async def save_profile(self, profile: UserProfile) -> UserProfile:
        return await self._users().upsert(profile)

    async def profile(self, user_id: str) -> UserProfile:
        return await self._users().get(user_id)

    def _users(self) -> Users:
        if self.users is None:
            raise DependencyDown("database", "DATABASE_URL is not set: no user profiles")
        return self.users

    def _log(self, plan: QueryPlan, query: Query, answer: Answer, latency_ms: float) -> None:
        if self.request_log is None:
            return
        done = answer.done
        usage = done.get("usage", {})
        self.request_log.record(
            RequestLogRow(
                request_id=plan.request_id,
                endpoint="query",
                status="error" if answer.error else "ok",
                latency_ms=latency_ms,
                user_id=query.user_id,
                session_id=query.session_id,
                question=query.question,
                subject=query.subject,
                query_class=done.get("query_class"),
                route=done.get("route"),
                model=done.get("model"),
                model_version=done.get("model_version"),
                cache_hit=False,
                prompt_tokens=usage.get("prompt_tokens", 0),
                completion_tokens=usage.get("completion_tokens", 0),
                source_ids=[s["id"] for s in answer.sources],
            )
        )
