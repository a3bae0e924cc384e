"""Plain-SQL migrations: files in cluster/storage/migrations/ applied once each, in name order."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import psycopg

LEDGER = """CREATE TABLE IF NOT EXISTS schema_migrations (
    name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"""
# One migrator at a time, whichever process gets there first (two replicas, two deploys).
LOCK_KEY = 73_126_001


def migration_files() -> list[Path]:
    folder = resources.files("cluster.storage") / "migrations"
    return sorted((Path(str(p)) for p in folder.iterdir() if p.name.endswith(".sql")), key=str)


def pending(database_url: str) -> list[str]:
    """The migrations not applied yet, in the order `migrate` would apply them."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(LEDGER)
        done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
    return [p.name for p in migration_files() if p.name not in done]


def dump_before(database_url: str, backups: Path, first_pending: str) -> Path:
    """A pg_dump of the database before FIRST_PENDING is applied: the way back from a
    forward-only migration (docs/DEPLOYMENT.md "Migrations")."""
    backups.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = backups / f"before-{Path(first_pending).stem}-{stamp}.sql"
    subprocess.run(["pg_dump", "--file", str(target), database_url], check=True)
    return target


def migrate_with_backup(database_url: str, backups: Path | None) -> tuple[list[str], Path | None]:
    """Apply pending migrations, after a pg_dump into BACKUPS when there are any (and pg_dump
    is installed): returns the names applied and the dump."""
    waiting = pending(database_url)
    dump = None
    if waiting and backups is not None and shutil.which("pg_dump"):
        dump = dump_before(database_url, backups, waiting[0])
    return migrate(database_url), dump


def migrate(database_url: str) -> list[str]:
    """Apply pending migrations, each in its own transaction; returns the names applied."""
    applied: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            conn.execute(LEDGER)
            done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
            for path in migration_files():
                if path.name not in done:
                    apply_one(conn, path)
                    applied.append(path.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    return applied


def apply_one(conn: psycopg.Connection, path: Path) -> None:
    with conn.transaction():
        conn.execute(path.read_text().encode())
        conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (path.name,))
