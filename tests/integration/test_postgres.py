"""Migrations, user profiles and the request log against the real PostgreSQL."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from cluster.errors import UserNotFound
from cluster.releases.errors import DeployLocked, NoSuchRelease
from cluster.releases.history import PostgresReleaseHistory, last_live
from cluster.releases.records import ReleaseFacts, ReleaseStatus
from cluster.storage.db import (
    Feedback,
    RequestLog,
    RequestLogRow,
    UserProfile,
    Users,
    open_pool,
)
from cluster.storage.history import History
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


async def test_concurrent_practice_checks_all_count_and_classes_accumulate(pool):
    users = Users(pool)
    await asyncio.gather(
        *(users.record_practice("kofi", "chemistry", n % 2 == 0) for n in range(8))
    )
    await users.note_classes("kofi", ["7b"])
    await users.note_classes("kofi", ["7c", "7b"])
    profile = await users.get("kofi")
    assert profile.progress["practice"]["subjects"]["chemistry"] == {"answered": 8, "correct": 4}
    assert profile.classes == ["7b", "7c"]


async def test_a_teacher_sees_only_their_classes_sessions_top_questions_and_flagged_answers(pool):
    users, log = Users(pool), RequestLog(pool)
    await users.note_classes("yaw", ["8a"])
    await users.note_classes("esi", ["9z"])
    rows = [
        ("h1", "yaw", "s-yaw-1", "What is a noun?", "supported"),
        ("h2", "yaw", "s-yaw-1", "what is a noun?", "repaired"),
        ("h3", "yaw", "s-yaw-2", "Define recursion.", "supported"),
        ("h4", "esi", "s-esi-1", "What is argon?", "unsupported"),
    ]
    for request_id, user, session, question, verdict in rows:
        log.record(
            RequestLogRow(
                request_id=request_id,
                endpoint="query",
                status="ok",
                latency_ms=1.0,
                user_id=user,
                session_id=session,
                question=question,
                grounding=verdict,
            )
        )
    await log.flush()
    await Feedback(pool).record("h3", -1, "wrong")
    history = History(pool)
    own = await history.sessions_of("yaw")
    assert [s["session_id"] for s in own] == ["s-yaw-2", "s-yaw-1"]
    assert own[1]["questions"] == ["What is a noun?", "what is a noun?"]
    seen = await history.overview(["8a"])
    assert [s["user_id"] for s in seen["students"]] == ["yaw"]
    assert {s["session_id"] for s in seen["sessions"]} == {"s-yaw-1", "s-yaw-2"}
    assert seen["most_asked"][0] == {"question": "what is a noun?", "count": 2}
    flagged = {f["request_id"]: f["reason"] for f in seen["flagged"]}
    assert flagged == {"h2": "repaired", "h3": "rated down"}  # not esi's, of class 9z
    everyone = await history.overview(None)
    assert {"yaw", "esi"} <= {s["user_id"] for s in everyone["students"]}


def test_the_release_history_is_kept_in_postgresql_and_one_deploy_holds_the_lock(migrated: str):
    history = PostgresReleaseHistory(migrated)
    first = history.add(
        ReleaseFacts(
            environment="production",
            config="applications: []",
            code_revision="abc",
            model_versions={"local": "smollm2@1"},
            index_versions={"chemistry": "v000001"},
            migration_level=migration_files()[-1].name,
        )
    )
    history.set_status(first.id, ReleaseStatus.verified, "7 checks passed")
    again = history.add(
        ReleaseFacts(
            environment="production", config="x", code_revision="abc", rollback_of=first.id
        )
    )
    assert history.get(first.id).model_versions == {"local": "smollm2@1"}
    assert [r.id for r in history.recent(2)] == [again.id, first.id]
    assert last_live(history) == history.get(first.id)  # the newer one is still applying
    with history.lock(), pytest.raises(DeployLocked), PostgresReleaseHistory(migrated).lock():
        pass
    with pytest.raises(NoSuchRelease):
        history.get(10**9)
