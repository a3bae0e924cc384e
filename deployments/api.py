"""The HTTP surface of the ingress node: routes, request validation, and error mapping.

Built by `build_api(service, ...)`, so the same app runs inside the Serve ingress replica and in a
plain uvicorn process (the single-process baseline and the unit tests). Every error body is
`{"error": {"type", "message"}}`; client mistakes are 4xx, never 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Request, Response
from fastapi import Query as FastQuery
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from access.errors import Forbidden
from access.principal import Principal
from cluster.errors import ClusterError, UnknownRequest, UserNotFound
from cluster.observability import health
from cluster.storage.db import UserProfile
from conversation.errors import SessionForbidden, SessionNotFound, SessionStoreDown
from conversation.sessions import SESSION_ID
from deployments.api_access import (
    AccessControl,
    admin_only,
    authenticator,
    counted,
    install_access_handlers,
    rate_headers,
    with_headers,
)
from deployments.api_answers import answer_response, sse
from deployments.api_docs import PROTECTED, errors, streamed
from deployments.api_web import add_web_routes
from deployments.openai_api import add_openai_routes, prepend
from deployments.validation import Storable
from models.errors import ModelError, UnknownBackendError
from practice.errors import PracticeItemNotFound, PracticeStoreDown
from retrieval.errors import InvalidQueryError, RetrievalError, UnknownSubjectError
from service.tutor_service import Answer, Query, TutorService

SessionId = Annotated[str, Path(pattern=SESSION_ID.pattern, description="32 URL-safe characters")]

USER_ID = r"^[A-Za-z0-9_.@-]{1,128}$"
UserId = Annotated[str, Field(pattern=USER_ID)]
UserIdPath = Annotated[str, Path(pattern=USER_ID)]
UserIdQuery = Annotated[str | None, FastQuery(pattern=USER_ID)]
ClassQuery = Annotated[str | None, FastQuery(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class Strict(Storable):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored


class QueryBody(Strict):
    question: str = Field(min_length=1, max_length=4000)
    session_id: str | None = Field(None, pattern=SESSION_ID.pattern)
    user_id: UserId | None = None
    subject: str | None = Field(None, max_length=64)
    k: int = Field(5, ge=1, le=20, description="How many sources to return.")
    stream: bool = False
    backend: str | None = Field(
        None, max_length=64, description="Admin or service only: this backend, not the policy."
    )
    grounding: Literal["off", "flag", "repair"] | None = Field(
        None, description="Admin or service only: the answer check's mode for this question."
    )


class SearchBody(Strict):
    query: str = Field(min_length=1, max_length=4000)
    subject: str | None = Field(None, max_length=64)
    k: int = Field(10, ge=1, le=50)


class ProfileBody(Strict):
    display_name: str = Field("", max_length=200)
    class_level: int | None = Field(None, ge=1, le=13)
    subjects: list[str] = Field(default_factory=list, max_length=20)
    progress: dict[str, Any] = Field(default_factory=dict)


class FeedbackBody(Strict):
    request_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="From the answer.")
    rating: Literal["up", "down"]
    comment: str = Field("", max_length=2000)


class PracticeCheckBody(Strict):
    item_id: str = Field(pattern=r"^[A-Za-z0-9_-]{16,64}$", description="From the item.")
    answer: str = Field(min_length=1, max_length=500, description="Text, or a choice's letter.")
    user_id: UserId | None = None


class SessionStartBody(Strict):
    user_id: UserId | None = None


class SessionEndBody(Strict):
    session_id: str = Field(pattern=SESSION_ID.pattern)
    user_id: UserId | None = None


# Exception class -> (HTTP status, error type); the first matching base wins.
ERROR_STATUS: list[tuple[type[Exception], int, str]] = [
    (InvalidQueryError, 422, "invalid_query"),
    (UnknownSubjectError, 422, "unknown_subject"),
    (SessionNotFound, 404, "session_not_found"),
    (SessionForbidden, 403, "session_forbidden"),
    (UserNotFound, 404, "user_not_found"),
    (UnknownRequest, 404, "unknown_request"),
    (UnknownBackendError, 404, "model_not_found"),
    (PracticeItemNotFound, 404, "practice_item_not_found"),
    (PracticeStoreDown, 503, "dependency_unavailable"),
    (RetrievalError, 503, "retrieval_unavailable"),
    (ModelError, 503, "model_unavailable"),
    (SessionStoreDown, 503, "dependency_unavailable"),
    (ClusterError, 503, "dependency_unavailable"),
]


def error_body(kind: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, **extra}}


def describe_validation(exc: RequestValidationError) -> str:
    problems = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"] if p not in ("body", "path"))
        problems.append(f"{where}: {err['msg']}" if where else err["msg"])
    return "; ".join(problems)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("invalid_request", describe_validation(exc)), 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """Starlette's own refusals (no such path, a method the path does not take, a body
        that is not JSON) in the same error shape as everything else."""
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method the path takes, not only one route's
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
        kind = HTTP_ERROR_TYPES.get(exc.status_code, "http_error")
        return JSONResponse(error_body(kind, str(exc.detail)), exc.status_code, headers=headers)

    for exc_type, status, kind in ERROR_STATUS:
        app.add_exception_handler(exc_type, _handler(status, kind))


HTTP_ERROR_TYPES = {400: "invalid_body", 404: "not_found", 405: "method_not_allowed"}


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    matching = [r for r in app.routes if isinstance(r, APIRoute) and r.path_regex.match(path)]
    return sorted({method for route in matching for method in route.methods or ()})


def _handler(status: int, kind: str) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(error_body(kind, str(exc)), status)

    return handle


class FormAsJson:
    """`curl -d '{...}'` sends form encoding; this API takes no forms, so such a body is read as
    the JSON it almost always is (and a non-JSON body still gets a clear 422)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["headers"] = [
                (k, b"application/json")
                if k == b"content-type" and v.startswith(b"application/x-www-form-urlencoded")
                else (k, v)
                for k, v in scope["headers"]
            ]
        await self.app(scope, receive, send)


HealthReport = Callable[[], Awaitable[dict[str, Any]]]


def build_api(
    service: TutorService,
    health_report: HealthReport,
    metrics_text: Callable[[], Awaitable[str]],
    access: AccessControl | None = None,
) -> FastAPI:
    """The app; `access` None means AUTH_MODE=off (development: every caller an admin)."""
    access = access or AccessControl(verifier=None)
    app = FastAPI(title="AI tutor", version=health.VERSION)
    app.add_middleware(FormAsJson)
    install_error_handlers(app)
    install_access_handlers(app, service.metrics.quota_rejected if service.metrics else None)
    add_tutor_routes(app, service, access)
    add_session_routes(app, service, access)
    add_people_routes(app, service, access)
    add_openai_routes(app, service, access)
    add_health_routes(app, health_report, metrics_text, access)
    add_web_routes(app)
    return app


def add_tutor_routes(app: FastAPI, service: TutorService, access: AccessControl) -> None:
    caller_of = Depends(authenticator(access))  # resolves the bearer token per request

    @app.post(
        "/api/v1/ai-tutor/query",
        response_model=None,
        responses={
            **streamed("The answer; events when `stream` is true."),
            **errors(*PROTECTED, 403, 404, 429, 502, 503),
        },
    )
    async def query(body: QueryBody, caller: Principal = caller_of) -> Response:
        who = caller.on_behalf_of(body.user_id)
        if (body.backend or body.grounding) and not caller.acts_for_others:
            raise Forbidden("`backend` and `grounding` are for the admin and service roles")
        headers = rate_headers(await access.quotas.admit(who))
        q = Query(
            body.question,
            body.session_id,
            who.user_id,
            body.subject,
            body.k,
            backend=body.backend,
            grounding=body.grounding,
        )
        events = counted(service.ask(q), who, access)
        # The first event (sources) comes after every check of the request, so a client's
        # mistake is raised here, as a 4xx, before a streamed response has begun.
        first = await anext(events)
        if body.stream:
            stream = sse(prepend(first, events))
            return StreamingResponse(stream, media_type="text/event-stream", headers=headers)
        answer = Answer(session_id=body.session_id)
        async for event in prepend(first, events):
            answer.absorb(event)
        return with_headers(answer_response(answer), headers)

    @app.post("/api/v1/retrieval/search", responses=errors(*PROTECTED, 503))
    async def search(body: SearchBody, caller: Principal = caller_of) -> dict[str, Any]:
        del caller  # any authenticated caller may search the curriculum
        outcome = await service.search(body.query, body.subject, body.k)
        results = [
            {"id": h.doc_id, "title": h.title, "subject": h.subject, "score": h.score}
            for h in outcome.hits
        ]
        return {"results": results, "degraded": outcome.degraded, "timings_ms": outcome.timings_ms}

    @app.post("/api/v1/ai-tutor/feedback", status_code=201, responses=errors(*PROTECTED, 404, 503))
    async def feedback(body: FeedbackBody, caller: Principal = caller_of) -> dict[str, Any]:
        rating = 1 if body.rating == "up" else -1
        asker = None if caller.role == "admin" else caller.user_id  # another's: 404, no leak
        arm = await service.feedback(body.request_id, rating, body.comment, asker)
        return {"request_id": body.request_id, "recorded": True, "arm": arm}

    @app.post("/api/v1/ai-tutor/practice/check", responses=errors(*PROTECTED, 404, 503))
    async def practice_check(body: PracticeCheckBody, caller: Principal = caller_of) -> Any:
        """Grade an answer to a practice item (from a practice request's `practice`): right or
        wrong, the key, the passage as the explanation, and the student's progress."""
        who = caller.on_behalf_of(body.user_id)
        owner = None if who.role == "admin" else who.user_id
        result = await service.check_practice(body.item_id, body.answer, owner)
        return result.as_json()

    @app.put("/api/v1/users/{user_id}", responses=errors(*PROTECTED, 403, 503))
    async def put_user(
        user_id: UserIdPath, body: ProfileBody, caller: Principal = caller_of
    ) -> dict[str, Any]:
        if not caller.owns_or_admin(user_id):
            raise Forbidden(f"only {user_id!r} (or an admin) may change this profile")
        classes = sorted(caller.classes) if caller.user_id == user_id else []
        profile = UserProfile(id=user_id, classes=classes, **body.model_dump())
        return (await service.save_profile(profile)).model_dump()

    @app.get("/api/v1/users/{user_id}", responses=errors(*PROTECTED, 404, 503))
    async def get_user(user_id: UserIdPath, caller: Principal = caller_of) -> dict[str, Any]:
        profile = await service.profile(user_id)
        if not caller.may_read(user_id, profile.classes):
            raise UserNotFound(user_id)  # user ids are guessable: another's reads as absent
        return profile.model_dump()


def add_session_routes(app: FastAPI, service: TutorService, access: AccessControl) -> None:
    """Session ids are 32 random characters: another's session is refused (403), since its
    existence tells nothing to someone who could not guess it."""
    caller_of = Depends(authenticator(access))  # resolves the bearer token per request

    @app.post(
        "/api/v1/ai-tutor/session/start", status_code=201, responses=errors(*PROTECTED, 403, 503)
    )
    async def start(body: SessionStartBody, caller: Principal = caller_of) -> dict[str, Any]:
        who = caller.on_behalf_of(body.user_id)
        session = await service.start_session(who.user_id, who.classes)
        return {
            "session_id": session.id,
            "user_id": session.user_id,
            "created_at": session.created_at.isoformat(),
            "profile": session.profile,
        }

    @app.post("/api/v1/ai-tutor/session/end", responses=errors(*PROTECTED, 403, 404, 503))
    async def end(body: SessionEndBody, caller: Principal = caller_of) -> dict[str, Any]:
        who = caller.on_behalf_of(body.user_id)
        owner = None if who.role == "admin" else who.user_id
        session = await service.end_session(body.session_id, owner)
        return {"session_id": session.id, "ended": True, "turns": len(session.turns)}

    @app.get(
        "/api/v1/ai-tutor/session/{session_id}",
        responses=errors(*PROTECTED, 403, 404, 503),
    )
    async def get_session(
        session_id: SessionId, caller: Principal = caller_of, user_id: UserIdQuery = None
    ) -> dict[str, Any]:
        who = caller.on_behalf_of(user_id)
        session = await service.session(session_id, None)
        if not who.may_read(session.user_id, session.profile.get("classes", [])):
            raise SessionForbidden(session_id)
        return session.model_dump(mode="json")


def add_people_routes(app: FastAPI, service: TutorService, access: AccessControl) -> None:
    """Who is signed in, a student's own past sessions, and a teacher's view of their classes
    (what the browser page shows)."""
    caller_of = Depends(authenticator(access))

    @app.get("/api/v1/me", responses=errors(*PROTECTED))
    async def me(caller: Principal = caller_of) -> dict[str, Any]:
        return {"user_id": caller.user_id, "role": caller.role, "classes": sorted(caller.classes)}

    @app.get("/api/v1/ai-tutor/sessions", responses=errors(*PROTECTED, 403, 503))
    async def sessions(caller: Principal = caller_of, user_id: UserIdQuery = None) -> Any:
        """The caller's sessions (an admin or service may name a user), newest first, each
        with the questions asked in it: from the request log, so ended ones are listed too."""
        who = caller.on_behalf_of(user_id)
        return {"sessions": await service.past_sessions(who.user_id)}

    @app.get("/api/v1/teacher/overview", responses=errors(*PROTECTED, 403, 503))
    async def overview(caller: Principal = caller_of, class_id: ClassQuery = None) -> Any:
        """A teacher's classes (from their token; `class_id` narrows to one of them), or an
        admin's view of any class or all: students with their practice progress, their
        sessions, the questions asked most, and the answers rated down or not grounded."""
        if caller.role == "admin":
            classes = None if class_id is None else [class_id]
        elif caller.role == "teacher":
            if class_id is not None and class_id not in caller.classes:
                raise Forbidden(f"class {class_id!r} is not one of this teacher's classes")
            classes = [class_id] if class_id else sorted(caller.classes)
        else:
            raise Forbidden("the overview is for teachers (and admins)")
        return await service.class_overview(classes)


def add_health_routes(
    app: FastAPI,
    health_report: HealthReport,
    metrics_text: Callable[[], Awaitable[str]],
    access: AccessControl,
) -> None:
    """Liveness, readiness and the basic status stay open for probes; the component report
    and the metrics are the admin's (or keep /metrics on a private port: Ray's agent)."""
    admin_of = Depends(admin_only(access))

    @app.get("/health")
    @app.get("/api/v1/ai-tutor/health")
    async def basic() -> dict[str, Any]:
        report = await health_report()
        return {k: report[k] for k in ("status", "version", "timestamp")}

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/health/ready", responses={503: {"description": "Not ready: names what fails."}})
    async def ready() -> JSONResponse:
        report = await health_report()
        failing = health.failing(report["components"])
        return JSONResponse({"ready": not failing, "failing": failing}, 503 if failing else 200)

    @app.get("/health/detailed", responses=errors(401, 403))
    async def detailed(admin: Principal = admin_of) -> dict[str, Any]:
        del admin
        return await health_report()

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        responses={200: {"content": {"text/plain": {}}}, **errors(401, 403)},
    )
    async def metrics(admin: Principal = admin_of) -> PlainTextResponse:
        del admin
        return PlainTextResponse(await metrics_text(), media_type="text/plain; version=0.0.4")
