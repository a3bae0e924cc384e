"""An answer as the HTTP API returns it: one JSON object, or server-sent events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi.responses import JSONResponse

from models.events import AnswerEvent
from service.tutor_service import Answer


def answer_json(answer: Answer) -> dict[str, Any]:
    done = answer.done
    fields = {} if done is None else done.model_dump(include=DONE_FIELDS)
    return {
        "answer": answer.text or (done.message if done else ""),
        "status": answer.status,
        "session_id": answer.session_id,
        "request_id": None,
        "sources": [s.model_dump() for s in answer.sources],
        "model": None,
        "model_version": None,
        "route": None,
        "query_class": None,
        "arm": "",
        "fallbacks": 0,
        "cache": {"hit": False},
        "timings_ms": {},
        "usage": {},
        "cost_usd": 0.0,
        "grounding": None,
        "practice": answer.practice.model_dump() if answer.practice else None,
        **fields,
        "degraded": answer.degraded,
    }


def answer_response(answer: Answer) -> JSONResponse:
    """200 for an answer (a sources-only answer says so in `status`); 502 when a model's stream
    broke after it began: the partial text is returned, marked, never passed off as whole."""
    if answer.error is not None:
        body = {**answer_json(answer), "status": "error", "error": answer.error.model_dump()}
        return JSONResponse(body, 502)
    return JSONResponse(answer_json(answer))


async def sse(events: AsyncIterator[AnswerEvent]) -> AsyncIterator[str]:
    async for event in events:
        yield f"event: {event.type}\ndata: {event.model_dump_json()}\n\n"


# What of the final event a non-streamed answer carries at its top level.
DONE_FIELDS = {
    "request_id",
    "model",
    "model_version",
    "route",
    "query_class",
    "arm",
    "fallbacks",
    "cache",
    "timings_ms",
    "usage",
    "cost_usd",
    "grounding",
}
