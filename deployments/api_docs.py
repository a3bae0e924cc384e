"""What each route may answer besides its success, for the OpenAPI document: every error is
`{"error": {"type", "message", ...}}`, and the answers that stream say `text/event-stream`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

MEANING = {
    400: "The body is not JSON (or not UTF-8).",
    401: "No bearer token, or one that does not verify (see WWW-Authenticate).",
    403: "The caller's role or identity does not allow this.",
    404: "Not found, or another user's (no existence is revealed).",
    422: "The request is invalid; the message names the field.",
    429: "Over a quota; Retry-After says when to ask again.",
    502: "A model's answer broke off after it began; the partial text is marked.",
    503: "A dependency (model, retrieval, database, Redis) cannot serve right now.",
}


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")  # a quota error adds `limit` and `retry_after_s`

    type: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorBody, "description": MEANING[status]} for status in statuses}


def streamed(description: str) -> dict[int | str, dict[str, Any]]:
    """A 200 that is JSON, or server-sent events when the request asks to stream."""
    return {
        200: {
            "description": description,
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/event-stream": {"schema": {}},  # each event's data is a JSON object
            },
        }
    }


PROTECTED = (400, 401, 422)  # every authenticated route that takes a body or a path
