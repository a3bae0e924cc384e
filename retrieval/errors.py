"""Retrieval errors. The ingress maps them to HTTP statuses; nothing here knows about HTTP.

RetrievalError
├── InvalidQueryError      the caller's query cannot be searched (empty, too long)
├── UnknownSubjectError    no shard serves that subject
├── CorpusError            an ingest file has a bad line (carries the line number)
└── ShardLoadError         a shard's files are missing or corrupt
"""

from __future__ import annotations


class RetrievalError(Exception):
    """Base of every retrieval failure."""

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        # Errors cross Ray process boundaries pickled; rebuild them from their own arguments
        # (the default uses the message alone and fails for these constructors).
        return (type(self), getattr(self, "init_args", self.args))


class InvalidQueryError(RetrievalError):
    """The query is empty, too long, or otherwise unsearchable."""


class UnknownSubjectError(RetrievalError):
    def __init__(self, subject: str, known: list[str]) -> None:
        self.init_args = (subject, known)
        super().__init__(f"unknown subject {subject!r}; known subjects: {', '.join(sorted(known))}")
        self.subject = subject
        self.known = known


class CorpusError(RetrievalError):
    def __init__(self, path: str, line: int, problem: str) -> None:
        self.init_args = (path, line, problem)
        super().__init__(f"{path}:{line}: {problem}")
        self.path = path
        self.line = line
        self.problem = problem


class ShardLoadError(RetrievalError):
    def __init__(self, subject: str, problem: str) -> None:
        self.init_args = (subject, problem)
        super().__init__(f"shard {subject!r} cannot be loaded: {problem}")
        self.subject = subject
        self.problem = problem
