"""The tutor service behind the HTTP API: sessions, profiles, the router, the request log.

Plain Python; the ingress deployment holds one per replica, the single-process baseline one.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from cluster.errors import DependencyDown, UserNotFound
from cluster.observability.metrics import TutorMetrics
from cluster.storage.db import (
    Feedback,
    RequestLog,
    RequestLogRow,
    SessionArchive,
    UserProfile,
    Users,
)
from cluster.storage.history import History
from conversation.context import (
    TokenCounter,
    approximate_counter,
    refers_back,
    sliding_window,
    standalone,
)
from conversation.errors import SessionForbidden, SessionNotFound
from conversation.sessions import Session, SessionStore, Turn, with_summary, with_turns
from models.backend import ChatMessage
from models.events import (
    AnswerEvent,
    DoneEvent,
    ErrorEvent,
    ErrorInfo,
    PracticeEvent,
    PracticeItemView,
    ReplaceEvent,
    Source,
    SourcesEvent,
    TokenEvent,
)
from practice.errors import PracticeItemNotFound
from retrieval.fanout import SearchOutcome
from service.practice import CheckResult, Practice, is_practice_request
from service.router import QueryPlan

log = logging.getLogger(__name__)
ANONYMOUS = "anonymous"


class Answerer(Protocol):
    """The router as the service sees it: a `TutorRouter` in one process, or the router
    deployment through its handle (`deployments/ingress.RouterViaHandle`)."""

    def search(self, question: str, subject: str | None, k: int) -> Awaitable[SearchOutcome]: ...

    def answer(self, plan: QueryPlan) -> AsyncIterator[AnswerEvent]: ...

    def models(self) -> Awaitable[list[dict[str, str]]]: ...

    def summarize(self, transcript: str) -> Awaitable[str]: ...


@dataclass
class Query:
    """A validated query as the API received it."""

    question: str
    session_id: str | None = None
    user_id: str | None = None
    subject: str | None = None
    k: int = 5
    history: list[ChatMessage] | None = None  # given by the caller instead of a session's
    backend: str | None = None  # a named backend instead of the routing policy
    grounding: str | None = None  # the answer check's mode instead of the router's
    source: str = "query"  # the request log's endpoint: query, or warmup


@dataclass
class Answer:
    """Collected from the router's events; what a non-streaming client receives."""

    session_id: str | None
    parts: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    degraded: list[dict[str, str]] = field(default_factory=list)
    done: DoneEvent | None = None  # None until the stream ends, and when it broke off
    error: ErrorInfo | None = None
    practice: PracticeItemView | None = None  # a practice request's item

    @property
    def text(self) -> str:
        return "".join(self.parts).strip()

    @property
    def complete(self) -> bool:
        """A whole answer from a model: not broken off, not the sources-only fallback."""
        return self.error is None and self.done is not None and self.done.status == "ok"

    @property
    def status(self) -> str:
        """ok, degraded (sources only), or error (broken off, or no end reached)."""
        if self.error is not None or self.done is None:
            return "error"
        return self.done.status

    def absorb(self, event: AnswerEvent) -> None:
        if isinstance(event, SourcesEvent):
            self.sources, self.degraded = event.sources, event.degraded
        elif isinstance(event, TokenEvent):
            self.parts.append(event.text)
        elif isinstance(event, ReplaceEvent):
            self.parts = [event.text]  # a repaired answer: the student reads this one
        elif isinstance(event, PracticeEvent):
            self.practice = event.item
        elif isinstance(event, DoneEvent):
            self.done = event
        elif isinstance(event, ErrorEvent):
            self.error = event.error


def profile_note(profile: dict[str, Any], summary: str = "") -> str:
    level = profile.get("class_level")
    subjects = ", ".join(profile.get("subjects") or [])
    parts = [f"class level {level}" if level else "", f"studies {subjects}" if subjects else ""]
    note = "; ".join(p for p in parts if p)
    return note + (f"\nEarlier in this conversation: {summary}" if summary else "")


def transcript(turns: list[Turn]) -> str:
    return "\n".join(f"{t.role}: {t.content}" for t in turns)


class TutorService:
    def __init__(
        self,
        router: Answerer,
        sessions: SessionStore,
        users: Users | None = None,
        request_log: RequestLog | None = None,
        metrics: TutorMetrics | None = None,
        feedback: Feedback | None = None,
        archive: SessionArchive | None = None,
        count_tokens: TokenCounter = approximate_counter,
        window_tokens: int = 768,
        practice: Practice | None = None,
        history: History | None = None,
    ) -> None:
        self.router = router
        self.sessions = sessions
        self.users = users
        self.request_log = request_log
        self.metrics = metrics
        self.feedback_store = feedback
        self.archive = archive
        self.count_tokens = count_tokens
        self.window_tokens = window_tokens
        self.practice = practice
        self.history = history
        self._summarizing: set[asyncio.Task[None]] = set()

    async def start_session(self, user_id: str | None, classes: Iterable[str] = ()) -> Session:
        """A new session for `user_id`, with a snapshot of their profile; `classes` (from the
        token) join the profile's, so the teachers of those classes may read the session."""
        profile = await self._profile(user_id)
        recorded = set(profile.get("classes", []))
        known = recorded | set(classes)
        if known:
            profile["classes"] = sorted(known)
        if user_id is not None and known != recorded:
            await self._note_classes(user_id, sorted(known))
        return await self.sessions.create(user_id or ANONYMOUS, profile)

    async def _note_classes(self, user_id: str, classes: list[str]) -> None:
        """Record the token's classes on the user's row for their teachers' overview; without
        the database the session still starts (the overview then misses this student)."""
        if self.users is None or not classes:
            return
        try:
            await self.users.note_classes(user_id, classes)
        except DependencyDown as error:
            log.warning("classes of %s not recorded: %s", user_id, error)

    async def past_sessions(self, user_id: str) -> list[dict[str, Any]]:
        return await self._request_history().sessions_of(user_id)

    async def class_overview(self, classes: list[str] | None) -> dict[str, Any]:
        return await self._request_history().overview(classes)

    def _request_history(self) -> History:
        if self.history is None:
            raise DependencyDown("database", "DATABASE_URL is not set: no request history")
        return self.history

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
        if self.archive is not None:
            await self.archive.archive(ended)
        return ended

    async def models(self) -> list[dict[str, str]]:
        return await self.router.models()

    async def search(self, question: str, subject: str | None, k: int) -> SearchOutcome:
        start = time.perf_counter()
        outcome = await self.router.search(question, subject, k)
        if self.metrics is not None:
            self.metrics.request("search", "ok", time.perf_counter() - start)
        return outcome

    async def ask(self, query: Query) -> AsyncIterator[AnswerEvent]:
        """The router's events, with the session updated and the request logged at the end."""
        start = time.perf_counter()
        session = await self._session_for(query)
        plan = self._plan(query, session)
        answer = Answer(session_id=query.session_id)
        async for event in self._answer(plan, query):
            answer.absorb(event)
            yield event
        await self._remember(query, answer)
        self._record(plan, query, answer, time.perf_counter() - start)

    async def _answer(self, plan: QueryPlan, query: Query) -> AsyncIterator[AnswerEvent]:
        """A practice request's item, or the router's answer."""
        if self.practice is not None and is_practice_request(plan):
            item_events = await self.practice.item_events(plan, query.user_id)
            if item_events:
                for event in item_events:
                    yield event
                return
        async for event in self.router.answer(plan):
            yield event

    async def check_practice(self, item_id: str, answer: str, user_id: str | None) -> CheckResult:
        if self.practice is None:
            raise PracticeItemNotFound(item_id)
        return await self.practice.check(item_id, answer, user_id)

    async def ask_all(self, question: str, source: str = "query") -> Answer:
        """A whole answer, collected (warm-up, scripts)."""
        answer = Answer(session_id=None)
        async for event in self.ask(Query(question, source=source)):
            answer.absorb(event)
        return answer

    async def _session_for(self, query: Query) -> Session | None:
        """The query's session; while the store is degraded, an unknown one is answered
        without history rather than refused (its turns are queued for write-back)."""
        if query.session_id is None:
            return None
        try:
            return await self.session(query.session_id, query.user_id)
        except SessionNotFound:
            if self.sessions.degraded:
                return None
            raise

    def _plan(self, query: Query, session: Session | None) -> QueryPlan:
        request_id = uuid.uuid4().hex
        question = standalone(query.question, session)
        unresolved = session is not None and question == query.question and refers_back(question)
        profile = session.profile if session else {}
        return QueryPlan(
            question=question,
            subject=query.subject,
            k=query.k,
            history=query.history if query.history is not None else self._history(session),
            profile_note=profile_note(profile, session.summary if session else ""),
            request_id=request_id,
            user_key=query.user_id or query.session_id or request_id,
            backend=query.backend,
            grounding=query.grounding,
            class_level=profile.get("class_level"),
            # An evaluation's own check mode neither reads nor fills the cache students use.
            cacheable=not unresolved and query.history is None and query.grounding is None,
        )

    def _history(self, session: Session | None) -> list[ChatMessage]:
        """The recent turns that fit the window (older ones live on in the summary)."""
        if session is None:
            return []
        recent = session.turns[session.summarized :]
        window = sliding_window(recent, self.window_tokens, self.count_tokens)
        return [ChatMessage(t.role, t.content) for t in window.turns]

    async def _remember(self, query: Query, answer: Answer) -> None:
        if query.session_id is None or not answer.complete:
            return  # a failed or partial answer is not part of the conversation
        top = answer.sources[0].title if answer.sources else ""
        turns = [
            Turn(role="user", content=query.question),
            Turn(
                role="assistant",
                content=answer.text,
                topic=top,
                source_ids=[s.id for s in answer.sources],
            ),
        ]
        await self.sessions.update(query.session_id, with_turns(turns))
        self._summarize_later(query.session_id)

    def _summarize_later(self, session_id: str) -> None:
        """Fold turns that fell out of the window into the summary, off the request path."""
        task = asyncio.get_running_loop().create_task(self._summarize(session_id))
        self._summarizing.add(task)
        task.add_done_callback(self._summarizing.discard)

    async def _summarize(self, session_id: str) -> None:
        session = await self.sessions.get(session_id)
        if session is None:
            return
        recent = session.turns[session.summarized :]
        dropped = sliding_window(recent, self.window_tokens, self.count_tokens).dropped
        if dropped == 0:
            return
        folded = recent[:dropped]
        previous = f"Summary so far: {session.summary}\n" if session.summary else ""
        summary = await self.router.summarize(previous + transcript(folded))
        if summary:
            covered = session.summarized + dropped
            await self.sessions.update(session_id, with_summary(summary, covered))

    async def wait_for_summaries(self) -> None:
        """For tests and shutdown: let background summaries finish."""
        while self._summarizing:
            await asyncio.gather(*list(self._summarizing), return_exceptions=True)

    async def feedback(
        self, request_id: str, rating: int, comment: str, asker: str | None = None
    ) -> str:
        """Feedback on a logged answer; with `asker`, only on an answer given to that user."""
        if self.feedback_store is None:
            raise DependencyDown("database", "DATABASE_URL is not set: feedback is not stored")
        if self.request_log is not None:
            await self.request_log.flush()  # this replica's answer may still be buffered
        arm = await self.feedback_store.record(request_id, rating, comment, asker)
        if self.metrics is not None:
            self.metrics.feedback(arm, "up" if rating > 0 else "down")
        return arm

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

    def _record(self, plan: QueryPlan, query: Query, answer: Answer, latency_s: float) -> None:
        status = answer.status
        done = answer.done
        if self.metrics is not None:
            self.metrics.request("query", status, latency_s, done.arm if done else "")
            if done is not None:
                self.metrics.answered(done)
        if self.request_log is not None:
            self.request_log.record(log_row(plan, query, answer, status, latency_s))


def log_row(
    plan: QueryPlan, query: Query, answer: Answer, status: str, latency_s: float
) -> RequestLogRow:
    done = answer.done or DoneEvent()  # broken off: no model, route or usage to log
    return RequestLogRow(
        request_id=plan.request_id,
        endpoint=query.source,
        status=status,
        latency_ms=latency_s * 1000,
        user_id=query.user_id,
        session_id=query.session_id,
        question=query.question,
        subject=query.subject,
        query_class=done.query_class or None,
        route=done.route or None,
        model=done.model,
        model_version=done.model_version,
        cache_hit=done.cache.hit,
        prompt_tokens=done.usage.prompt_tokens,
        completion_tokens=done.usage.completion_tokens,
        source_ids=[s.id for s in answer.sources],
        ab_arm=done.arm,
        backend=done.backend,
        fallbacks=done.fallbacks,
        cost_usd=done.cost_usd,
        grounding=done.grounding.verdict if done.grounding else None,
    )
