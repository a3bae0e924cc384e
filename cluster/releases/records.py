"""A release: the serve config as applied, and the versions of everything it ran with."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class ReleaseStatus(StrEnum):
    applying = "applying"  # recorded, `serve deploy` under way (or interrupted)
    applied = "applied"  # healthy, not verified (`tutor up`, or --no-verify)
    verified = "verified"  # healthy and passed `tutor verify`
    failed = "failed"  # not healthy in time, or failed verification; rolled back


LIVE = frozenset({ReleaseStatus.applied, ReleaseStatus.verified})


class ReleaseFacts(BaseModel):
    """What a release is, known before it is applied."""

    environment: str
    config: str = Field(description="The rendered serve config, YAML, as `serve deploy` got it.")
    code_revision: str
    model_versions: dict[str, str] = Field(default_factory=dict)
    index_versions: dict[str, str] = Field(default_factory=dict)
    migration_level: str = ""
    rollback_of: int | None = None
    by: str = ""


class Release(ReleaseFacts):
    id: int
    created_at: datetime
    status: ReleaseStatus
    detail: str = ""

    @property
    def is_live(self) -> bool:
        return self.status in LIVE

    def line(self) -> str:
        note = f" (rollback to {self.rollback_of})" if self.rollback_of else ""
        when = self.created_at.strftime("%Y-%m-%d %H:%M:%S")
        models = ", ".join(f"{k}={v}" for k, v in sorted(self.model_versions.items()))
        return (
            f"{self.id:>4}  {when}  {self.environment:11} {self.status.value:9} "
            f"code {self.code_revision[:12]}  {models}{note}"
        )
