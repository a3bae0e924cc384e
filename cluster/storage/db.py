"""PostgreSQL access: a connection pool, user profiles, and the request log."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from pydantic import BaseModel, Field

from cluster.errors import DependencyDown, UnknownRequest, UserNotFound
from conversation.sessions import Session

log = logging.getLogger(__name__)


class UserProfile(BaseModel):
    id: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,128}$")
    display_name: str = Field("", max_length=200)
    class_level: int | None = Field(None, ge=1, le=13)
    subjects: list[str] = Field(default_factory=list, max_length=20)
    progress: dict[str, Any] = Field(default_factory=dict)
    # The student's classes, from their token: a teacher of one of them may read the profile.
    classes: list[str] = Field(default_factory=list, max_length=50)


@dataclass(frozen=True)
class RequestLogRow:
    request_id: str
    endpoint: str
    status: str
    latency_ms: float
    user_id: str | None = None
    session_id: str | None = None
    question: str | None = None
    subject: str | None = None
    query_class: str | None = None
    route: str | None = None
    model: str | None = None
    model_version: str | None = None
    cache_hit: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    source_ids: list[str] = field(default_factory=list)
    ab_arm: str = ""
    backend: str | None = None
    fallbacks: int = 0
    cost_usd: float = 0.0
    grounding: str | None = None  # the answer's verdict; None: not checked


def open_pool(database_url: str, max_size: int) -> AsyncConnectionPool:
    """A pool that opens lazily and keeps trying in the background when PostgreSQL is down."""
    return AsyncConnectionPool(
        database_url,
        min_size=1,
        max_size=max_size,
        open=False,
        timeout=5.0,
        kwargs={"autocommit": True},
    )


@contextmanager
def database_errors() -> Iterator[None]:
    """PostgreSQL failures surface as `DependencyDown("database")` (a 503 at the API)."""
    try:
        yield
    except (psycopg.OperationalError, PoolTimeout) as exc:
        raise DependencyDown("database", f"{type(exc).__name__}: {exc}") from exc


class Users:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def upsert(self, profile: UserProfile) -> UserProfile:
        with database_errors():
            return await self._upsert(profile)

    async def get(self, user_id: str) -> UserProfile:
        with database_errors():
            row = await self._select(user_id)
        if row is None:
            raise UserNotFound(user_id)
        return UserProfile.model_validate(row)

    async def _upsert(self, profile: UserProfile) -> UserProfile:
        async with self._pool.connection() as conn:
            await conn.execute(
                """INSERT INTO users (id, display_name, class_level, subjects, progress, classes)
                VALUES (%s, %s, %s, %s, %s, %s)
                ON CONFLICT (id) DO UPDATE SET display_name = EXCLUDED.display_name,
                    class_level = EXCLUDED.class_level, subjects = EXCLUDED.subjects,
                    progress = EXCLUDED.progress, classes = EXCLUDED.classes,
                    updated_at = now()""",
                (
                    profile.id,
                    profile.display_name,
                    profile.class_level,
                    profile.subjects,
                    Jsonb(profile.progress),
                    profile.classes,
                ),
            )
        return profile

    async def note_classes(self, user_id: str, classes: list[str]) -> None:
        """Add the classes a user's token names to their row (made if absent), so that the
        teachers of those classes find them; a row that has them all is not written."""
        with database_errors():
            async with self._pool.connection() as conn:
                await conn.execute(
                    """INSERT INTO users (id, classes) VALUES (%s, %s)
                    ON CONFLICT (id) DO UPDATE
                    SET classes = ARRAY(SELECT DISTINCT c FROM unnest(
                        users.classes || EXCLUDED.classes) AS c ORDER BY c),
                        updated_at = now()
                    WHERE NOT users.classes @> EXCLUDED.classes""",
                    (user_id, sorted(classes)),
                )

    async def record_practice(self, user_id: str, subject: str, correct: bool) -> dict[str, Any]:
        """Count a checked practice item in the user's progress (a first one makes the user's
        row); returns the practice progress. Locked, so concurrent checks all count."""
        with database_errors():
            async with self._pool.connection() as conn, conn.transaction():
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(
                    "INSERT INTO users (id) VALUES (%s) ON CONFLICT (id) DO NOTHING", (user_id,)
                )
                await cur.execute("SELECT progress FROM users WHERE id = %s FOR UPDATE", (user_id,))
                row = await cur.fetchone()
                progress = with_practice_result(row["progress"] if row else {}, subject, correct)
                await cur.execute(
                    "UPDATE users SET progress = %s, updated_at = now() WHERE id = %s",
                    (Jsonb(progress), user_id),
                )
        practice: dict[str, Any] = progress["practice"]
        return practice

    async def _select(self, user_id: str) -> dict[str, Any] | None:
        async with self._pool.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(
                "SELECT id, display_name, class_level, subjects, progress, classes "
                "FROM users WHERE id = %s",
                (user_id,),
            )
            return await cur.fetchone()


def with_practice_result(progress: dict[str, Any], subject: str, correct: bool) -> dict[str, Any]:
    """`progress` with one more checked item: totals, and per subject."""
    practice = dict(progress.get("practice") or {})
    subjects = {name: dict(tally) for name, tally in (practice.get("subjects") or {}).items()}
    for tally in (practice, subjects.setdefault(subject, {})):
        tally["answered"] = int(tally.get("answered", 0)) + 1
        tally["correct"] = int(tally.get("correct", 0)) + int(correct)
    return {**progress, "practice": {**practice, "subjects": subjects}}


class RequestLog:
    """Buffers rows and writes them in batches off the request path.

    The log is observability, not user data: when PostgreSQL is down, rows beyond the buffer
    are dropped and counted (`dropped`) rather than slowing or failing answers.
    """

    def __init__(
        self,
        pool: AsyncConnectionPool,
        max_buffer: int = 10_000,
        count: Callable[[str, int], None] | None = None,
    ) -> None:
        self._pool = pool
        self._queue: asyncio.Queue[RequestLogRow] = asyncio.Queue(max_buffer)
        self._task: asyncio.Task[None] | None = None
        self._count = count  # (written | dropped, rows): the metrics that add up over replicas
        self.dropped = 0
        self.written = 0

    def _counted(self, outcome: str, rows: int) -> None:
        if outcome == "written":
            self.written += rows
        else:
            self.dropped += rows
        if self._count is not None:
            self._count(outcome, rows)

    def record(self, row: RequestLogRow) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain_forever())
        try:
            self._queue.put_nowait(row)
        except asyncio.QueueFull:
            self._counted("dropped", 1)

    async def flush(self) -> None:
        """Wait until every row recorded so far has been written (or dropped)."""
        await self._queue.join()

    async def _drain_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < 500:
                batch.append(self._queue.get_nowait())
            await self._write(batch)
            for _ in batch:
                self._queue.task_done()

    async def _write(self, batch: list[RequestLogRow]) -> None:
        try:
            async with self._pool.connection() as conn, conn.cursor() as cur:
                await cur.executemany(INSERT_LOG, [log_params(r) for r in batch])
            self._counted("written", len(batch))
        except (psycopg.Error, TimeoutError) as exc:
            self._counted("dropped", len(batch))
            log.warning("request log: %d rows dropped, PostgreSQL unavailable: %s", len(batch), exc)


INSERT_LOG = """INSERT INTO request_log (request_id, endpoint, status, latency_ms, user_id,
    session_id, question, subject, query_class, route, model, model_version, cache_hit,
    prompt_tokens, completion_tokens, source_ids, ab_arm, backend, fallbacks, cost_usd,
    grounding)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"""


def log_params(row: RequestLogRow) -> tuple[Any, ...]:
    return (
        row.request_id,
        row.endpoint,
        row.status,
        row.latency_ms,
        row.user_id,
        row.session_id,
        row.question,
        row.subject,
        row.query_class,
        row.route,
        row.model,
        row.model_version,
        row.cache_hit,
        row.prompt_tokens,
        row.completion_tokens,
        row.source_ids,
        row.ab_arm,
        row.backend,
        row.fallbacks,
        row.cost_usd,
        row.grounding,
    )


class Feedback:
    """Thumbs up or down on a logged answer; the answer's A/B arm comes from its log row."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def record(
        self, request_id: str, rating: int, comment: str, asker: str | None = None
    ) -> str:
        """Store the feedback and return the arm of the answer it is about. With `asker`,
        only on an answer that user was given (another's reads as unknown: no leak)."""
        with database_errors():
            async with self._pool.connection() as conn:
                cur = await conn.execute(
                    "SELECT ab_arm, user_id FROM request_log WHERE request_id = %s", (request_id,)
                )
                row = await cur.fetchone()
                if row is None or (asker is not None and row[1] != asker):
                    raise UnknownRequest(request_id)
                await conn.execute(
                    "INSERT INTO feedback (request_id, rating, comment) VALUES (%s, %s, %s)",
                    (request_id, rating, comment),
                )
        return str(row[0])


class SessionArchive:
    """Ended sessions' transcripts, kept in PostgreSQL."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self._pool = pool

    async def archive(self, session: Session) -> None:
        turns = [t.model_dump(mode="json") for t in session.turns]
        with database_errors():
            async with self._pool.connection() as conn:
                await conn.execute(
                    """INSERT INTO session_archive (session_id, user_id, started_at, turns, summary)
                    VALUES (%s, %s, %s, %s, %s) ON CONFLICT (session_id) DO NOTHING""",
                    (
                        session.id,
                        session.user_id,
                        session.created_at,
                        Jsonb(turns),
                        session.summary,
                    ),
                )


TOP_QUESTIONS = """SELECT question FROM request_log
    WHERE endpoint = 'query' AND status = 'ok' AND question IS NOT NULL
      AND at > now() - interval '7 days'
    GROUP BY question ORDER BY count(*) DESC, max(at) DESC LIMIT %s"""


async def most_asked(pool: AsyncConnectionPool, limit: int) -> list[str]:
    """The past week's most asked questions (warm-up material); warm-up answers do not count."""
    with database_errors():
        async with pool.connection() as conn:
            cur = await conn.execute(TOP_QUESTIONS, (limit,))
            return [row[0] for row in await cur.fetchall()]
