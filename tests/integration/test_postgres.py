"""Migrations, user profiles and the request log against the real PostgreSQL."""

from __future__ import annotations

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from cluster.errors import UserNotFound
from cluster.storage.db import RequestLog, RequestLogRow, UserProfile, Users, open_pool
from cluster.storage.migrate import migrate, migration_files


@pytest.fixture(scope="module")
def migrated(database_url: str) -> str:
    migrate(database_url)
    return database_url


@pytest.fixture
async def pool(migrated: str):
    pool: AsyncConnectionPool = open_pool(migrated, max_size=2)
    await pool.open()
    yield pool
    await pool.close()


def test_migrations_apply_once_and_are_recorded(migrated: str):
    assert migrate(migrated) == []  # second run: nothing pending
    with psycopg.connect(migrated) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM schema_migrations")]
    assert names == [p.name for p in migration_files()] and len(names) >= 3


async def test_a_profile_round_trips_and_updates(pool):
    users = Users(pool)
    await users.upsert(UserProfile(id="amina", class_level=8, subjects=["chemistry"]))
    await users.upsert(UserProfile(id="amina", class_level=9, subjects=["chemistry", "english"]))
    profile = await users.get("amina")
    assert profile.class_level == 9 and profile.subjects == ["chemistry", "english"]


async def test_an_unknown_user_is_reported_as_such(pool):
    with pytest.raises(UserNotFound):
        await Users(pool).get("nobody")


async def test_request_log_rows_are_written_in_batches(pool):
    log = RequestLog(pool)
    for n in range(25):
        log.record(
            RequestLogRow(
                request_id=f"r{n}",
                endpoint="query",
                status="ok",
                latency_ms=12.5,
                model="m",
                source_ids=["chemistry:carbon"],
            )
        )
    await log.flush()
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*), min(source_ids[1]) FROM request_log WHERE request_id LIKE 'r%%'"
        )
        assert await cur.fetchone() == (25, "chemistry:carbon")
    assert log.written == 25 and log.dropped == 0


async def test_an_unreachable_database_drops_log_rows_without_failing_the_caller():
    dead = open_pool("postgresql://postgres@127.0.0.1:1/none", max_size=1)
    await dead.open(wait=False)
    log = RequestLog(dead)
    log.record(RequestLogRow(request_id="x", endpoint="query", status="ok", latency_ms=1.0))
    await log.flush()
    assert log.dropped == 1 and log.written == 0
    await dead.close()
