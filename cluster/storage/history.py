"""What the request log says about people: a student's past sessions, and what a teacher
needs to see about their classes (their students' sessions, the questions asked most, and the
answers rated down or not grounded). Read-only queries over PostgreSQL."""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from cluster.storage.db import database_errors

SESSIONS_OF = """SELECT session_id, min(at) AS started_at, max(at) AS last_at,
        array_agg(question ORDER BY at, id) AS questions
    FROM request_log
    WHERE user_id = %(user)s AND session_id IS NOT NULL AND endpoint = 'query'
    GROUP BY session_id ORDER BY max(at) DESC, max(id) DESC LIMIT %(limit)s"""

# A class filter every query below shares: the students whose classes meet the teacher's
# (`%(all)s` true: every student, for an admin).
IN_CLASSES = "(%(all)s OR u.classes && %(classes)s::text[])"

STUDENTS = f"""SELECT u.id AS user_id, u.display_name, u.classes,
        COALESCE(u.progress -> 'practice', '{{}}'::jsonb) AS practice
    FROM users u WHERE {IN_CLASSES} ORDER BY u.id LIMIT %(limit)s"""

CLASS_SESSIONS = f"""SELECT r.session_id, r.user_id, max(r.at) AS last_at,
        array_agg(r.question ORDER BY r.at, r.id) AS questions
    FROM request_log r JOIN users u ON u.id = r.user_id
    WHERE {IN_CLASSES} AND r.session_id IS NOT NULL AND r.endpoint = 'query'
    GROUP BY r.session_id, r.user_id ORDER BY max(r.at) DESC, max(r.id) DESC LIMIT %(limit)s"""

MOST_ASKED = f"""SELECT lower(trim(r.question)) AS question, count(*) AS count
    FROM request_log r JOIN users u ON u.id = r.user_id
    WHERE {IN_CLASSES} AND r.endpoint = 'query' AND r.question IS NOT NULL
    GROUP BY 1 ORDER BY 2 DESC, max(r.id) DESC LIMIT 10"""

FLAGGED = f"""SELECT r.request_id, r.user_id, r.question, r.at,
        CASE WHEN EXISTS (SELECT 1 FROM feedback f
                          WHERE f.request_id = r.request_id AND f.rating = -1)
             THEN 'rated down' ELSE r.grounding END AS reason
    FROM request_log r JOIN users u ON u.id = r.user_id
    WHERE {IN_CLASSES} AND r.endpoint = 'query' AND (
        r.grounding IN ('unsupported', 'repaired', 'unverified')
        OR EXISTS (SELECT 1 FROM feedback f WHERE f.request_id = r.request_id AND f.rating = -1))
    ORDER BY r.at DESC, r.id DESC LIMIT %(limit)s"""


class History:
    def __init__(self, pool: AsyncConnectionPool, limit: int = 50) -> None:
        self._pool = pool
        self._limit = limit

    async def sessions_of(self, user_id: str) -> list[dict[str, Any]]:
        """The user's sessions, newest first, each with the questions asked in it."""
        return await self._rows(SESSIONS_OF, {"user": user_id, "limit": self._limit})

    async def overview(self, classes: list[str] | None) -> dict[str, Any]:
        """What a teacher of `classes` sees (None: every class, for an admin)."""
        params = {"all": classes is None, "classes": classes or [], "limit": self._limit}
        return {
            "classes": classes,
            "students": await self._rows(STUDENTS, params),
            "sessions": await self._rows(CLASS_SESSIONS, params),
            "most_asked": await self._rows(MOST_ASKED, params),
            "flagged": await self._rows(FLAGGED, params),
        }

    async def _rows(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        with database_errors():
            async with self._pool.connection() as conn:
                cur = conn.cursor(row_factory=dict_row)
                await cur.execute(sql, params)
                return [
                    {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in row.items()}
                    for row in await cur.fetchall()
                ]
