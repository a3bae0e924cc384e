"""Model backend errors; the router decides on retries and fallback from the class alone.

ModelError
├── RetryableError          worth another attempt (same or next backend)
│   ├── BackendTimeout      no answer within the deadline
│   ├── RateLimited         429; carries the upstream's Retry-After, if any
│   ├── UpstreamError       5xx from the upstream
│   └── BackendUnavailable  cannot connect, or the engine is not running
├── RequestRejected         4xx other than 429: the request itself is wrong; do not retry
├── StreamInterrupted       failed after tokens were sent; never retried or hidden
└── UnknownBackendError     a config names a backend type that is not registered
"""

from __future__ import annotations


class ModelError(Exception):
    """Base of every model-side failure."""

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        # Errors cross Ray process boundaries pickled; rebuild them from their own arguments
        # (the default uses the message alone and fails for these constructors).
        return (type(self), getattr(self, "init_args", self.args))


class RetryableError(ModelError):
    """A failure that another attempt may not meet."""


class BackendTimeout(RetryableError):
    pass


class RateLimited(RetryableError):
    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        self.init_args = (message, retry_after_s)
        super().__init__(message)
        self.retry_after_s = retry_after_s


class UpstreamError(RetryableError):
    def __init__(self, message: str, status: int) -> None:
        self.init_args = (message, status)
        super().__init__(message)
        self.status = status


class BackendUnavailable(RetryableError):
    pass


class RequestRejected(ModelError):
    def __init__(self, message: str, status: int) -> None:
        self.init_args = (message, status)
        super().__init__(message)
        self.status = status


class StreamInterrupted(ModelError):
    """The stream broke after `tokens_sent` chunks reached the caller."""

    def __init__(self, message: str, tokens_sent: int) -> None:
        self.init_args = (message, tokens_sent)
        super().__init__(message)
        self.tokens_sent = tokens_sent


class UnknownBackendError(ModelError):
    def __init__(self, kind: str, known: list[str]) -> None:
        self.init_args = (kind, known)
        super().__init__(f"unknown backend type {kind!r}; available: {', '.join(sorted(known))}")
