"""Errors of the conversation: sessions and their stores; the ingress maps them to HTTP.

ConversationError
├── SessionNotFound      no such session (unknown, ended or expired)
├── SessionForbidden     the session belongs to another user
└── SessionStoreDown     the session store (Redis) does not answer, or is read-only for now
"""

from __future__ import annotations


class ConversationError(Exception):
    """Base of the conversation's failures."""

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        # Errors cross Ray process boundaries pickled; rebuild them from their own arguments
        # (the default uses the message alone and fails for these constructors).
        return (type(self), getattr(self, "init_args", self.args))


class SessionNotFound(ConversationError):
    def __init__(self, session_id: str) -> None:
        self.init_args = (session_id,)
        super().__init__(f"no active session {session_id!r} (unknown, ended or expired)")
        self.session_id = session_id


class SessionForbidden(ConversationError):
    def __init__(self, session_id: str) -> None:
        self.init_args = (session_id,)
        super().__init__(f"session {session_id!r} belongs to another user")
        self.session_id = session_id


class SessionStoreDown(ConversationError):
    def __init__(self, component: str, problem: str) -> None:
        self.init_args = (component, problem)
        super().__init__(f"{component} is unavailable: {problem}")
        self.component = component
