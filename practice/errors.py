"""What can go wrong with a practice item, as the API reports it."""

from __future__ import annotations


class PracticeError(Exception):
    """Base of this package's errors."""


class PracticeItemNotFound(PracticeError):
    """No such item: never made, expired, or another student's (which reads as absent)."""

    def __init__(self, item_id: str) -> None:
        super().__init__(f"no practice item {item_id!r} (items expire after a day; ask again)")
        self.item_id = item_id


class PracticeStoreDown(PracticeError):
    def __init__(self, problem: str) -> None:
        super().__init__(f"practice items are unavailable: {problem}")
