"""The caller a verified token names, and the rules for whose things it may read or change.

Roles: `student` (their own sessions, profile, feedback), `teacher` (also reads the sessions
and profiles of students who share one of their classes: the token's `classes` claim, recorded
on the student's sessions and profile), `admin` (everything, including /metrics and
/health/detailed), `service` (machine clients: may act for a user they name).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from access.errors import Forbidden

Role = Literal["student", "teacher", "admin", "service"]
ROLES: tuple[Role, ...] = ("student", "teacher", "admin", "service")


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: Role = "student"
    classes: frozenset[str] = field(default_factory=frozenset)

    @property
    def acts_for_others(self) -> bool:
        """May name another user (a school's backend asking for a student)."""
        return self.role in ("admin", "service")

    def owns_or_admin(self, owner: str) -> bool:
        return owner == self.user_id or self.role == "admin"

    def may_read(self, owner: str, owner_classes: Iterable[str]) -> bool:
        """Own things; an admin anything; a teacher what a student of their classes owns."""
        if self.owns_or_admin(owner):
            return True
        return self.role == "teacher" and bool(self.classes & set(owner_classes))

    def on_behalf_of(self, claimed: str | None) -> Principal:
        """Who a request is for: the token's subject. An admin or a service may name another
        user (a school's backend asking for a student), and is then treated as that student;
        anyone else naming another user is refused."""
        if claimed is None or claimed == self.user_id:
            return self
        if self.acts_for_others:
            return Principal(claimed, "student")
        raise Forbidden(f"user_id {claimed!r} is not the authenticated user {self.user_id!r}")
