"""Errors of the cluster layer (users, the request log, dependencies); the ingress maps them
to HTTP. The conversation's own errors are in `conversation/errors.py`.

ClusterError
├── UserNotFound         no such user profile
├── UnknownRequest       no logged answer with that request id
└── DependencyDown       a required service (PostgreSQL, Redis) does not answer
"""

from __future__ import annotations


class ClusterError(Exception):
    """Base of the cluster layer's failures."""

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        # Errors cross Ray process boundaries pickled; rebuild them from their own arguments
        # (the default uses the message alone and fails for these constructors).
        return (type(self), getattr(self, "init_args", self.args))


class UserNotFound(ClusterError):
    def __init__(self, user_id: str) -> None:
        self.init_args = (user_id,)
        super().__init__(f"no user {user_id!r}")
        self.user_id = user_id


class UnknownRequest(ClusterError):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"no logged answer with request_id {request_id!r}")
        self.init_args = (request_id,)
        self.request_id = request_id


class DependencyDown(ClusterError):
    def __init__(self, component: str, problem: str) -> None:
        self.init_args = (component, problem)
        super().__init__(f"{component} is unavailable: {problem}")
        self.component = component
