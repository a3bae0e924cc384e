"""Access control at the HTTP edge: the bearer token becomes the request's `Principal`, access
errors become 401 (with `WWW-Authenticate`), 403 and 429 (with `Retry-After` and the
`X-RateLimit-*` headers), and each role may use only the `/v1` models its policy allows.

The rules themselves live in `access/`; this module only reads headers and writes statuses.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from access.errors import Forbidden, NotAuthenticated, QuotaExceeded
from access.principal import Principal, Role
from access.quotas import Allowance, MemoryQuotaStore, QuotaConfig, Quotas
from access.tokens import TokenVerifier
from models.events import AnswerEvent, DoneEvent, TokenEvent

ANY_MODEL = "*"
DEFAULT_MODELS: dict[Role, list[str]] = {
    "student": ["tutor"],
    "teacher": ["tutor"],
    "service": [ANY_MODEL],
    "admin": [ANY_MODEL],
}
SPEND_EVERY_S = 1.0  # while an answer streams, how often its tokens are spent
# With AUTH_MODE=off (development only) every caller is this admin.
DEVELOPER = Principal("developer", "admin")


class AccessConfig(BaseModel):
    """The ingress's `user_config`: quotas, and which `/v1` models each role may ask for."""

    model_config = ConfigDict(extra="forbid")

    quotas: QuotaConfig = Field(default_factory=QuotaConfig)
    models: dict[Role, list[str]] = Field(
        default_factory=lambda: dict(DEFAULT_MODELS),
        description="Role -> the /v1 `model` names it may use (`tutor` is the routed one).",
    )


@dataclass
class AccessControl:
    verifier: TokenVerifier | None  # None: AUTH_MODE=off
    quotas: Quotas = field(default_factory=lambda: Quotas(MemoryQuotaStore()))
    config: AccessConfig = field(default_factory=AccessConfig)

    def configure(self, config: AccessConfig) -> None:
        self.config = config
        self.quotas.config = config.quotas

    def principal(self, authorization: str | None) -> Principal:
        if self.verifier is None:
            return DEVELOPER
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("send `Authorization: Bearer <token>` (tutor token USER_ID)")
        return self.verifier.verify(token.strip())

    def may_use(self, caller: Principal, model: str) -> bool:
        allowed = self.config.models.get(caller.role, [])
        return ANY_MODEL in allowed or model in allowed

    def allow_model(self, caller: Principal, model: str) -> None:
        if not self.may_use(caller, model):
            allowed = self.config.models.get(caller.role, [])
            raise Forbidden(f"role {caller.role} may not use model {model!r}: {allowed}")


def authenticator(control: AccessControl) -> Callable[[Request], Awaitable[Principal]]:
    async def caller(request: Request) -> Principal:
        return control.principal(request.headers.get("authorization"))

    return caller


def admin_only(control: AccessControl) -> Callable[[Request], Awaitable[Principal]]:
    async def admin(request: Request) -> Principal:
        principal = control.principal(request.headers.get("authorization"))
        if principal.role != "admin":
            raise Forbidden("this endpoint is for the admin role")
        return principal

    return admin


async def counted(
    events: AsyncIterator[AnswerEvent], who: Principal, access: AccessControl
) -> AsyncIterator[AnswerEvent]:
    """The events, with the answer's tokens spent from the day's budget as they stream.

    Each token event counts one completion token, charged at most every SPEND_EVERY_S (one
    Redis call a second, not one per few tokens: that cost 4 ms a fast answer); the final event
    settles the prompt tokens and the backend's exact count (a cached answer's replay owes
    none and is refunded). An answer that breaks off, or whose client leaves, still pays for
    what streamed. The budget is checked when a question is admitted, so an answer that has
    begun is finished."""
    streamed = charged = 0
    settled, last_spend = False, time.monotonic()
    try:
        async for event in events:
            if isinstance(event, TokenEvent):
                streamed += 1
                if time.monotonic() - last_spend >= SPEND_EVERY_S:
                    await access.quotas.spend(who, streamed - charged)
                    charged, last_spend = streamed, time.monotonic()
            elif isinstance(event, DoneEvent):
                usage = event.usage
                await access.quotas.spend(
                    who, usage.prompt_tokens + usage.completion_tokens - charged
                )
                settled = True
            yield event
    finally:
        if not settled and streamed > charged:
            await access.quotas.spend(who, streamed - charged)


def rate_headers(allowance: Allowance | None) -> dict[str, str]:
    if allowance is None:
        return {}
    return {
        "X-RateLimit-Limit": str(allowance.limit),
        "X-RateLimit-Remaining": str(allowance.remaining),
        "X-RateLimit-Reset": str(allowance.reset_s),
    }


def with_headers(response: Response, headers: dict[str, str]) -> Response:
    response.headers.update(headers)
    return response


def error_json(
    status: int, kind: str, message: str, headers: dict[str, str], **extra: Any
) -> JSONResponse:
    body = {"error": {"type": kind, "message": message, **extra}}
    return JSONResponse(body, status, headers=headers)


def install_access_handlers(
    app: FastAPI, quota_rejected: Callable[[str], None] | None = None
) -> None:
    @app.exception_handler(NotAuthenticated)
    async def unauthenticated(_: Request, exc: NotAuthenticated) -> JSONResponse:
        challenge = f'Bearer error="invalid_token", error_description="{exc.reason}"'
        return error_json(401, "unauthenticated", str(exc), {"WWW-Authenticate": challenge})

    @app.exception_handler(Forbidden)
    async def forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return error_json(403, "forbidden", str(exc), {})

    @app.exception_handler(QuotaExceeded)
    async def over_quota(_: Request, exc: QuotaExceeded) -> JSONResponse:
        if quota_rejected is not None:
            quota_rejected(exc.limit)
        headers = {
            "Retry-After": str(exc.retry_after_s),
            "X-RateLimit-Limit": str(exc.allowed),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(exc.retry_after_s),
        }
        return error_json(
            429,
            "quota_exceeded",
            str(exc),
            headers,
            limit=exc.limit,
            retry_after_s=exc.retry_after_s,
        )
