"""Errors of access control; the ingress maps them to HTTP (401, 403, 404, 429).

AccessError
├── NotAuthenticated     no token, or one that does not verify (401, WWW-Authenticate)
├── Forbidden            a verified caller asking for what its role does not allow (403)
└── QuotaExceeded        over a burst, daily question or daily token limit (429, Retry-After)
"""

from __future__ import annotations


class AccessError(Exception):
    """Base of access control's failures."""

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        # Rebuilt from their own arguments when they cross Ray processes pickled.
        return (type(self), getattr(self, "init_args", self.args))


class NotAuthenticated(AccessError):
    def __init__(self, reason: str) -> None:
        self.init_args = (reason,)
        super().__init__(f"authentication required: {reason}")
        self.reason = reason


class Forbidden(AccessError):
    def __init__(self, reason: str) -> None:
        self.init_args = (reason,)
        super().__init__(reason)


class QuotaExceeded(AccessError):
    def __init__(self, limit: str, allowed: int, retry_after_s: int) -> None:
        self.init_args = (limit, allowed, retry_after_s)
        super().__init__(f"{limit} limit of {allowed} reached; try again in {retry_after_s} s")
        self.limit, self.allowed, self.retry_after_s = limit, allowed, retry_after_s
