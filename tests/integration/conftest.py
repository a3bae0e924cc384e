"""Integration fixtures: the real Redis and PostgreSQL, a throwaway database, real indexes."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import redis

from tests.conftest import CURRICULUM

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

pytestmark = pytest.mark.integration


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def redis_url() -> str:
    if not redis_answers(REDIS_URL):
        pytest.skip(f"Redis at {REDIS_URL} does not answer (.ci/run starts it)")
    return REDIS_URL


@contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """A new database's URL, dropped when the block ends (a skip if PostgreSQL is down)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip(f"PostgreSQL at {PG_ADMIN_URL} does not answer (.ci/run starts it)")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh database for this test session, dropped afterwards."""
    with throwaway_database("tutor_it") as url:
        yield url


@pytest.fixture(scope="session")
def demo_files() -> list[Path]:
    return sorted(CURRICULUM.glob("*.jsonl.gz"))
