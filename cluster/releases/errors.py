"""Release errors, one base: `ReleaseError` (a CLI prints its message and exits non-zero).

ReleaseError
├── NoSuchRelease       the id asked for is not in the history
├── NothingToRollBackTo no earlier release that went live
└── DeployLocked        another deploy holds the lock
"""

from __future__ import annotations


class ReleaseError(RuntimeError):
    pass


class NoSuchRelease(ReleaseError):
    def __init__(self, release_id: int) -> None:
        self.release_id = release_id
        super().__init__(f"no release {release_id} in the history (see `tutor releases`)")

    def __reduce__(self) -> tuple[type, tuple[int]]:
        return type(self), (self.release_id,)


class NothingToRollBackTo(ReleaseError):
    pass


class DeployLocked(ReleaseError):
    pass
