"""Deploy and roll back: record the release, apply it, wait for every node to be healthy,
verify it; a release that fails is marked failed and the last live one is applied again.

The cluster and the verification are injected, so this runs against `serve deploy` in the
CLI and against small fakes in unit tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cluster.releases.errors import NothingToRollBackTo
from cluster.releases.history import ReleaseHistory, last_live
from cluster.releases.records import Release, ReleaseFacts, ReleaseStatus
from cluster.releases.verify import Verification


class Cluster(Protocol):
    def apply(self, config: Path) -> None:
        """`serve deploy` CONFIG; returns once the cluster has taken it."""

    def wait_healthy(self, since: float) -> None:
        """Block until the config applied at SINCE runs with every node healthy; raise
        RuntimeError (the deploy failed) or TimeoutError."""


VerifyRelease = Callable[[Release], Verification]


@dataclass(frozen=True)
class Outcome:
    release: Release
    rolled_back_to: Release | None = None

    @property
    def ok(self) -> bool:
        return self.release.is_live


@dataclass
class Rollout:
    history: ReleaseHistory
    cluster: Cluster
    verify: VerifyRelease | None  # None: --no-verify (the release is `applied`, not `verified`)
    work_dir: Path
    say: Callable[[str], None]
    clock: Callable[[], float]

    def deploy(self, facts: ReleaseFacts) -> Outcome:
        """Apply FACTS as a new release; if it fails, go back to the last live release."""
        with self.history.lock():
            release = self.history.add(facts)
            self.say(f"release {release.id}: applying ({release.environment})")
            return self._or_restore(self._apply(release), facts.code_revision)

    def rollback(self, to: int | None, code_revision: str) -> Outcome:
        """Apply release TO again (default: the last live release before the newest live one
        with another config); if that fails, the live release is applied again."""
        with self.history.lock():
            target = self.history.get(to) if to is not None else self._before_current()
            return self._or_restore(self._reapply(target, code_revision), code_revision)

    def _or_restore(self, release: Release, code_revision: str) -> Outcome:
        if release.is_live:
            return Outcome(release)
        previous = last_live(self.history, before=release.id)
        if previous is None:
            self.say("no earlier live release to roll back to")
            return Outcome(release)
        self.say(f"release {release.id} failed: rolling back to release {previous.id}")
        return Outcome(release, self._reapply(previous, code_revision))

    def _before_current(self) -> Release:
        current = last_live(self.history)
        if current is None:
            raise NothingToRollBackTo("no live release (see `tutor releases`)")
        older = [r for r in self.history.recent(1000) if r.is_live and r.id < current.id]
        different = [r for r in older if r.config != current.config]
        if not older:
            raise NothingToRollBackTo("no earlier live release (see `tutor releases`)")
        return (different or older)[0]

    def _reapply(self, target: Release, code_revision: str) -> Release:
        if target.code_revision != code_revision:
            self.say(
                f"note: release {target.id} ran code {target.code_revision}; this checkout is "
                f"{code_revision}: its config is re-applied, the code on the nodes stays"
            )
        facts = ReleaseFacts(
            **target.model_dump(include=set(ReleaseFacts.model_fields) - {"rollback_of"}),
            rollback_of=target.id,
        )
        release = self.history.add(facts.model_copy(update={"code_revision": code_revision}))
        self.say(f"release {release.id}: re-applying release {target.id}")
        return self._apply(release)

    def _apply(self, release: Release) -> Release:
        path = self.work_dir / f"release-{release.id}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(release.config)
        since = self.clock()
        try:
            self.cluster.apply(path)
            self.cluster.wait_healthy(since)
        except (RuntimeError, TimeoutError, OSError) as exc:
            return self._mark(release, ReleaseStatus.failed, f"not healthy: {exc}")
        if self.verify is None:
            return self._mark(release, ReleaseStatus.applied, "healthy; not verified")
        verification = self.verify(release)
        for check in verification.checks:
            self.say("  " + check.line())
        status = ReleaseStatus.verified if verification.passed else ReleaseStatus.failed
        return self._mark(release, status, verification.summary())

    def _mark(self, release: Release, status: ReleaseStatus, detail: str) -> Release:
        marked = self.history.set_status(release.id, status, detail)
        self.say(f"release {release.id}: {status.value}: {detail}")
        return marked
