"""Where releases are kept: PostgreSQL's `releases` table when DATABASE_URL is set, else one
JSON file per release under $DATA_DIR/releases. Both take a lock for the length of a deploy,
so two operators cannot deploy at once.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import psycopg
from filelock import FileLock, Timeout
from psycopg.rows import dict_row

from cluster.releases.errors import DeployLocked, NoSuchRelease
from cluster.releases.records import Release, ReleaseFacts, ReleaseStatus

DEPLOY_LOCK_KEY = 73_126_002  # beside cluster.storage.migrate's 73_126_001
LOCKED = "another deploy or rollback is under way (it holds the release lock)"


class ReleaseHistory(Protocol):
    """Releases by increasing id. `add` and `set_status` are durable when they return."""

    def add(self, facts: ReleaseFacts) -> Release: ...

    def set_status(self, release_id: int, status: ReleaseStatus, detail: str = "") -> Release: ...

    def get(self, release_id: int) -> Release: ...

    def recent(self, limit: int = 20) -> list[Release]: ...

    def lock(self) -> contextlib.AbstractContextManager[None]: ...


def last_live(history: ReleaseHistory, before: int | None = None) -> Release | None:
    """The newest release that went live (applied or verified), older than BEFORE if given."""
    for release in history.recent(limit=1000):
        if release.is_live and (before is None or release.id < before):
            return release
    return None


class FileReleaseHistory:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def _path(self, release_id: int) -> Path:
        return self.directory / f"{release_id:06d}.json"

    def _write(self, release: Release) -> Release:
        staging = self._path(release.id).with_suffix(".tmp")
        staging.write_text(release.model_dump_json(indent=1))
        staging.replace(self._path(release.id))  # atomic: a reader sees old or new, never half
        return release

    def add(self, facts: ReleaseFacts) -> Release:
        ids = [int(p.stem) for p in self.directory.glob("*.json")]
        now = datetime.now(UTC)
        release = Release(
            **facts.model_dump(), id=max(ids, default=0) + 1, created_at=now, status="applying"
        )
        return self._write(release)

    def set_status(self, release_id: int, status: ReleaseStatus, detail: str = "") -> Release:
        release = self.get(release_id).model_copy(update={"status": status, "detail": detail})
        return self._write(release)

    def get(self, release_id: int) -> Release:
        path = self._path(release_id)
        if not path.is_file():
            raise NoSuchRelease(release_id)
        return Release.model_validate_json(path.read_text())

    def recent(self, limit: int = 20) -> list[Release]:
        paths = sorted(self.directory.glob("*.json"), reverse=True)[:limit]
        return [Release.model_validate_json(p.read_text()) for p in paths]

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        try:
            with FileLock(self.directory / ".deploy.lock", timeout=1):
                yield
        except Timeout as exc:
            raise DeployLocked(LOCKED) from exc


COLUMNS = (
    "id, created_at, environment, status, detail, config, code_revision, model_versions, "
    "index_versions, migration_level, rollback_of, by_whom AS by"
)


class PostgresReleaseHistory:
    """The `releases` table (migration 0006); each call is its own short transaction."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url

    def _one(self, sql: str, params: tuple[object, ...]) -> Release:
        with psycopg.connect(self.url, row_factory=dict_row) as conn:
            row = conn.execute(sql, params).fetchone()
        if row is None:
            raise NoSuchRelease(int(str(params[-1])))
        return Release.model_validate(row)

    def add(self, facts: ReleaseFacts) -> Release:
        sql = (
            "INSERT INTO releases (environment, status, config, code_revision, model_versions, "
            "index_versions, migration_level, rollback_of, by_whom) VALUES "
            f"(%s, 'applying', %s, %s, %s, %s, %s, %s, %s) RETURNING {COLUMNS}"
        )
        params = (
            facts.environment,
            facts.config,
            facts.code_revision,
            json.dumps(facts.model_versions),
            json.dumps(facts.index_versions),
            facts.migration_level,
            facts.rollback_of,
            facts.by,
        )
        return self._one(sql, params)

    def set_status(self, release_id: int, status: ReleaseStatus, detail: str = "") -> Release:
        sql = f"UPDATE releases SET status = %s, detail = %s WHERE id = %s RETURNING {COLUMNS}"
        return self._one(sql, (status.value, detail, release_id))

    def get(self, release_id: int) -> Release:
        return self._one(f"SELECT {COLUMNS} FROM releases WHERE id = %s", (release_id,))

    def recent(self, limit: int = 20) -> list[Release]:
        sql = f"SELECT {COLUMNS} FROM releases ORDER BY id DESC LIMIT %s"
        with psycopg.connect(self.url, row_factory=dict_row) as conn:
            rows = conn.execute(sql, (limit,)).fetchall()
        return [Release.model_validate(row) for row in rows]

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """A session advisory lock, held on its own connection while the deploy runs."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (DEPLOY_LOCK_KEY,)).fetchone()
            if not row or not row[0]:
                raise DeployLocked(LOCKED)
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (DEPLOY_LOCK_KEY,))
