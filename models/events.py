"""The answer stream: what the router sends back for one question, event by event.

    SourcesEvent    first: the passages the answer is grounded on (and any degraded shard)
    TokenEvent      zero or more text deltas
    ReplaceEvent    the answer's text so far is replaced by this one (a repaired answer)
    GroundingEvent  the answer checked against its sources: supported, repaired or unsupported
    PracticeEvent   a practice request's item: question, choices, id to check it with (no key)
    ErrorEvent      the stream broke after tokens; last (no DoneEvent follows)
    DoneEvent       last: who answered, how, at what cost, how long each stage took

These cross Ray handles pickled and reach clients as JSON (server-sent events or collected), so
the JSON of each is its wire format. `ServedEvent` stays inside the router: the backend chain's
note of which backend answered, folded into the `DoneEvent`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(Event):
    """A passage an answer cites: its document id, title, subject, retrieval score, and the
    passage's opening (what the model was shown of it) for a student to read."""

    id: str
    title: str
    subject: str
    score: float
    text: str = ""


class SourcesEvent(Event):
    type: Literal["sources"] = "sources"
    sources: list[Source]
    degraded: list[dict[str, str]] = Field(default_factory=list)


class TokenEvent(Event):
    type: Literal["token"] = "token"
    text: str


class ErrorInfo(Event):
    type: str
    message: str


class ErrorEvent(Event):
    type: Literal["error"] = "error"
    error: ErrorInfo


def error_event(kind: str, message: str) -> ErrorEvent:
    return ErrorEvent(error=ErrorInfo(type=kind, message=message))


class ServedEvent(Event):
    type: Literal["served"] = "served"
    backend: str
    model: str
    version: str


class Usage(Event):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class CacheInfo(Event):
    hit: bool = False
    kind: Literal["exact", "semantic"] | None = None
    similarity: float | None = None


@dataclass
class Attempt:
    """One backend's part in an answer: ok | skipped_open | failed | interrupted."""

    backend: str
    outcome: str
    error: str = ""
    retries: int = 0


class ReplaceEvent(Event):
    """The text streamed so far did not hold: show this instead. `verdict` says what the new
    text is: the sources' own answer (`repaired`), or that they do not say (`unverified`)."""

    type: Literal["replace"] = "replace"
    text: str
    verdict: Literal["repaired", "unverified"] = "repaired"


class GroundingInfo(Event):
    verdict: Literal["supported", "repaired", "unsupported", "unverified"]
    score: float
    unsupported: list[str] = Field(default_factory=list)  # the claims the sources did not hold


class GroundingEvent(GroundingInfo):
    type: Literal["grounding"] = "grounding"


class PracticeItemView(Event):
    """A practice item as the student sees it before checking: never its key."""

    item_id: str
    kind: Literal["number", "code", "name", "value", "term", "meaning"]
    question: str
    choices: list[str] = Field(default_factory=list)
    subject: str
    source_id: str


class PracticeEvent(Event):
    type: Literal["practice"] = "practice"
    item: PracticeItemView


class DoneEvent(Event):
    type: Literal["done"] = "done"
    status: Literal["ok", "degraded"] = "ok"
    message: str = ""  # said instead of an answer when no model answered
    model: str | None = None
    model_version: str | None = None
    backend: str | None = None
    route: str = ""
    query_class: str = ""
    arm: str = ""
    request_id: str = ""
    attempts: list[Attempt] = Field(default_factory=list)
    fallbacks: int = 0
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float = 0.0
    cache: CacheInfo = Field(default_factory=CacheInfo)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    grounding: GroundingInfo | None = None  # None: the check is off, or nothing was answered

    @field_serializer("cache")
    def _cache_without_nones(self, cache: CacheInfo) -> dict[str, Any]:
        return cache.model_dump(exclude_none=True)  # a miss is {"hit": false}, as documented


AnswerEvent = (
    SourcesEvent
    | TokenEvent
    | ReplaceEvent
    | GroundingEvent
    | PracticeEvent
    | ErrorEvent
    | DoneEvent
)
