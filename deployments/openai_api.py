"""An OpenAI-compatible front door: `POST /v1/chat/completions` and `GET /v1/models`.

Any OpenAI client can use the tutor; retrieval and routing stay behind it. Model `tutor` is
routed by policy; a backend's name (from `/v1/models`) asks for that backend. The answer's
sources and route ride along in a `tutor` field, which OpenAI clients ignore.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from access.principal import Principal
from deployments.api_access import AccessControl, authenticator, counted
from deployments.api_docs import PROTECTED, errors, streamed
from deployments.validation import Storable
from models.backend import ChatMessage
from models.events import AnswerEvent, DoneEvent, ErrorEvent, ReplaceEvent, TokenEvent
from service.tutor_service import Answer, Query, TutorService

ROUTED = "tutor"
# A streamed answer grounding replaced: what precedes the new text, by what it is.
CORRECTION = {
    "repaired": "\n\nCorrection (checked against the sources): ",
    "unverified": "\n\nCould not be checked against the sources: ",
}


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")  # OpenAI messages carry optional extras (name)

    role: Literal["system", "user", "assistant", "developer", "tool"]
    content: str = Field(max_length=4000)


class ChatBody(Storable):
    model_config = ConfigDict(extra="ignore")  # sampling fields the tutor does not use

    model: str = ROUTED
    messages: list[Message] = Field(min_length=1, max_length=50)
    stream: bool = False
    user: str | None = Field(None, pattern=r"^[A-Za-z0-9_.@-]{1,128}$")


def to_query(body: ChatBody, user_id: str | None = None) -> Query:
    """The last user message is the question; earlier user/assistant turns are the history
    (the tutor keeps its own system prompt)."""
    turns = [m for m in body.messages if m.role in ("user", "assistant")]
    if not turns or turns[-1].role != "user":
        raise ValueError("the last message must be the user's")
    history = [ChatMessage(m.role, m.content) for m in turns[:-1]]  # type: ignore[arg-type]
    backend = None if body.model == ROUTED else body.model
    return Query(question=turns[-1].content, user_id=user_id, history=history, backend=backend)


def tutor_extra(answer: Answer) -> dict[str, Any]:
    done = answer.done
    return {
        "sources": [s.model_dump() for s in answer.sources],
        "route": done.route if done else None,
        "status": done.status if done else None,
        "model_version": done.model_version if done else None,
        "request_id": done.request_id if done else None,
    }


def completion(answer: Answer, created: int) -> dict[str, Any]:
    done = answer.done or DoneEvent()
    usage = done.usage.model_dump()
    return {
        "id": f"chatcmpl-{done.request_id}",
        "object": "chat.completion",
        "created": created,
        "model": done.model_version or ROUTED,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {
                    "role": "assistant",
                    "content": answer.text or done.message,
                },
            }
        ],
        "usage": {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]},
        "tutor": tutor_extra(answer),
    }


def chunk(created: int, delta: dict[str, str], finish: str | None, **extra: Any) -> str:
    body = {
        "id": "chatcmpl-tutor",
        "object": "chat.completion.chunk",
        "created": created,
        "model": ROUTED,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }
    return f"data: {json.dumps(body)}\n\n"


async def stream_chunks(events: AsyncIterator[AnswerEvent], created: int) -> AsyncIterator[str]:
    answer = Answer(session_id=None)
    yield chunk(created, {"role": "assistant"}, None)
    async for event in events:
        answer.absorb(event)
        if isinstance(event, TokenEvent):
            yield chunk(created, {"content": event.text}, None)
        elif isinstance(event, ReplaceEvent):
            # OpenAI's stream has no way to take text back: the repaired answer follows it.
            yield chunk(created, {"content": f"{CORRECTION[event.verdict]}{event.text}"}, None)
        elif isinstance(event, ErrorEvent):
            # OpenAI's streaming error shape: the client raises instead of returning a short text.
            yield f"data: {json.dumps({'error': event.error.model_dump()})}\n\n"
            return
    done = answer.done
    if done is not None and done.status != "ok" and done.message:
        yield chunk(created, {"content": done.message}, None)
    yield chunk(created, {}, "stop", tutor=tutor_extra(answer))
    yield "data: [DONE]\n\n"


def add_openai_routes(app: FastAPI, service: TutorService, access: AccessControl) -> None:
    caller_of = Depends(authenticator(access))  # resolves the bearer token per request

    @app.get("/v1/models", responses=errors(401, 503))
    async def models(caller: Principal = caller_of) -> dict[str, Any]:
        routed = {"id": ROUTED, "object": "model", "owned_by": "ai-tutor", "version": "routed"}
        backends = [
            {"id": m["id"], "object": "model", "owned_by": "ai-tutor", "version": m["version"]}
            for m in await service.models()
        ]
        usable = [m for m in [routed, *backends] if access.may_use(caller, m["id"])]
        return {"object": "list", "data": usable}

    @app.post(
        "/v1/chat/completions",
        response_model=None,
        responses={
            **streamed("A chat completion; chunks when `stream` is true."),
            **errors(*PROTECTED, 403, 404, 429, 502, 503),
        },
    )
    async def chat(body: ChatBody, caller: Principal = caller_of) -> Any:
        who = caller.on_behalf_of(body.user)
        access.allow_model(caller, body.model)
        try:
            query = to_query(body, who.user_id)
        except ValueError as exc:
            error = {"type": "invalid_request", "message": str(exc)}
            return JSONResponse({"error": error}, 422)
        await access.quotas.admit(who)
        created = int(time.time())
        events = counted(service.ask(query), who, access)
        first = await anext(events)  # request errors surface here, before streaming starts
        if body.stream:
            return StreamingResponse(
                stream_chunks(prepend(first, events), created), media_type="text/event-stream"
            )
        answer = Answer(session_id=None)
        async for event in prepend(first, events):
            answer.absorb(event)
        if answer.error is not None:
            return JSONResponse({"error": answer.error.model_dump()}, 502)
        return completion(answer, created)


async def prepend(
    first: AnswerEvent, rest: AsyncIterator[AnswerEvent]
) -> AsyncIterator[AnswerEvent]:
    yield first
    async for event in rest:
        yield event
