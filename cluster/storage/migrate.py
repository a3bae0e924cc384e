"""Plain-SQL migrations: files in cluster/storage/migrations/ applied once each, in name order."""

from __future__ import annotations

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
