"""Errors raised in one replica are re-raised in another: they must survive pickling whole,
or the ingress sees an opaque failure and answers 500 instead of the right 4xx."""

import pickle

import pytest

from cluster.errors import DependencyDown, UserNotFound
from conversation.errors import SessionForbidden, SessionNotFound, SessionStoreDown
from models.errors import (
    RateLimited,
    RequestRejected,
    StreamInterrupted,
    UnknownBackendError,
    UpstreamError,
)
from retrieval.errors import CorpusError, InvalidQueryError, ShardLoadError, UnknownSubjectError

ERRORS = [
    UnknownSubjectError("history", ["chemistry"]),
    InvalidQueryError("the query is empty"),
    CorpusError("c.jsonl", 3, "not JSON"),
    ShardLoadError("english", "missing"),
    RateLimited("slow down", 2.5),
    UpstreamError("boom", 502),
    RequestRejected("bad", 400),
    StreamInterrupted("dropped", 4),
    UnknownBackendError("tgi", ["vllm", "openai"]),
    SessionNotFound("x" * 32),
    SessionForbidden("x" * 32),
    UserNotFound("amina"),
    DependencyDown("database", "refused"),
    SessionStoreDown("redis", "refused"),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_an_error_survives_pickling_with_its_type_message_and_fields(error: Exception):
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error)
    assert vars(copy) == vars(error)
