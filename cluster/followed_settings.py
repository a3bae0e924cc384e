"""Settings one node owns and another follows: the router's `search` block, read by the ingress.

The owner's user_config stays the one place an operator sets them; the follower fetches them
once, then refreshes in the background at most every `refresh_s`, so a request never waits on
the owner and a change made by `serve deploy` reaches the follower within about that interval.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class FollowedSettings(Generic[T]):
    def __init__(self, fetch: Callable[[], Awaitable[T]], refresh_s: float = 1.0) -> None:
        self._fetch = fetch
        self._refresh_s = refresh_s
        self._value: T | None = None
        self._fetched_at = 0.0
        self._refreshing: asyncio.Task[None] | None = None

    async def get(self) -> T:
        """The settings: fetched now the first time (a failure then propagates), afterwards the
        last good copy while a refresh runs behind it (a failed refresh keeps that copy)."""
        if self._value is None:
            await self._refresh()
        elif self._stale() and (self._refreshing is None or self._refreshing.done()):
            self._refreshing = asyncio.get_running_loop().create_task(self._refresh())
        assert self._value is not None
        return self._value

    def _stale(self) -> bool:
        return time.monotonic() - self._fetched_at >= self._refresh_s

    async def _refresh(self) -> None:
        try:
            self._value = await self._fetch()
        except Exception as error:  # noqa: BLE001 - any failure of the owner keeps the last copy
            if self._value is None:
                raise
            log.warning("keeping the last settings, refresh failed: %r", error)
        finally:
            self._fetched_at = time.monotonic()
