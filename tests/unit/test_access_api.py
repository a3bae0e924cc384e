"""Who may do what through the HTTP API: tokens, roles, quotas and unstorable input, on the
same app the ingress serves (over in-process nodes)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi.testclient import TestClient

from access.errors import QuotaExceeded
from access.principal import Principal
from access.quotas import MemoryQuotaStore, QuotaConfig, QuotaPolicy, Quotas
from access.tokens import TokenConfig, TokenVerifier, mint
from deployments.api_access import AccessConfig, AccessControl, counted
from graphs.single_process import local_api, local_router
from models.events import AnswerEvent, DoneEvent, TokenEvent, Usage
from tests.fakes.hashing_embedder import HashingEmbedder
from tests.fakes.llm import EchoSourceBackend

CONFIG = TokenConfig(issuer="ai-tutor", audience="ai-tutor", secret="t" * 40)
QUERY = "/api/v1/ai-tutor/query"


def auth(user: str, role: str = "student", classes: tuple[str, ...] = ()) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(CONFIG, user, role, 600, classes)}"}  # type: ignore[arg-type]


@pytest.fixture
def access() -> AccessControl:
    return AccessControl(TokenVerifier(CONFIG), Quotas(MemoryQuotaStore()))


@pytest.fixture
def client(chemistry_shards, access: AccessControl) -> Iterator[TestClient]:
    router = local_router(HashingEmbedder(), chemistry_shards, {"local": EchoSourceBackend()})
    app, _ = local_api(router, access=access)
    with TestClient(app) as http:
        yield http


def test_no_token_is_a_401_with_a_bearer_challenge(client: TestClient):
    response = client.post(QUERY, json={"question": "carbon"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"]["type"] == "unauthenticated"
    forged = {
        "Authorization": "Bearer " + mint(TokenConfig("ai-tutor", "ai-tutor", "x" * 40), "amina")
    }
    assert client.post(QUERY, json={"question": "carbon"}, headers=forged).status_code == 401


def test_probes_stay_open_and_operations_are_for_admins(client: TestClient):
    assert client.get("/health/live").status_code == 200
    assert client.get("/health/ready").status_code == 200
    assert client.get("/metrics", headers=auth("amina")).status_code == 403
    assert client.get("/health/detailed", headers=auth("amina")).status_code == 403
    assert client.get("/metrics", headers=auth("root", "admin")).status_code == 200


def test_a_user_id_that_is_not_the_callers_is_refused(client: TestClient):
    body = {"question": "carbon", "user_id": "bilal"}
    response = client.post(QUERY, json=body, headers=auth("amina"))
    assert response.status_code == 403 and "bilal" in response.json()["error"]["message"]
    own = client.post(QUERY, json={**body, "user_id": "amina"}, headers=auth("amina"))
    assert own.status_code == 200


def test_sessions_are_their_owners_and_their_teachers(client: TestClient):
    started = client.post(
        "/api/v1/ai-tutor/session/start", json={}, headers=auth("amina", classes=("7b",))
    )
    session = f"/api/v1/ai-tutor/session/{started.json()['session_id']}"
    assert client.get(session, headers=auth("amina")).status_code == 200
    assert client.get(session, headers=auth("bilal")).status_code == 403
    assert client.get(session, headers=auth("ms-ade", "teacher", ("7b",))).status_code == 200
    assert client.get(session, headers=auth("mr-obi", "teacher", ("9a",))).status_code == 403
    assert client.get(session, headers=auth("root", "admin")).status_code == 200
    # Asking in someone else's session, or ending it, is refused too.
    sid = started.json()["session_id"]
    ask = client.post(QUERY, json={"question": "carbon", "session_id": sid}, headers=auth("bilal"))
    assert ask.status_code == 403
    end = client.post(
        "/api/v1/ai-tutor/session/end", json={"session_id": sid}, headers=auth("bilal")
    )
    assert end.status_code == 403
    assert client.get(session, headers=auth("amina")).json()["turns"] == []  # untouched


def test_a_student_may_use_only_the_routed_model(client: TestClient):
    body = {"model": "local", "messages": [{"role": "user", "content": "What is carbon?"}]}
    assert client.post("/v1/chat/completions", json=body, headers=auth("amina")).status_code == 403
    routed = {**body, "model": "tutor"}
    assert (
        client.post("/v1/chat/completions", json=routed, headers=auth("amina")).status_code == 200
    )
    assert (
        client.post("/v1/chat/completions", json=body, headers=auth("app", "service")).status_code
        == 200
    )
    listed = client.get("/v1/models", headers=auth("amina")).json()["data"]
    assert [m["id"] for m in listed] == ["tutor"]


def test_only_admins_and_services_choose_a_backend_or_the_answer_check(client: TestClient):
    for option in ({"grounding": "off"}, {"backend": "local"}):
        body = {"question": "carbon", **option}
        refused = client.post(QUERY, json=body, headers=auth("amina"))
        assert refused.status_code == 403 and "admin" in refused.json()["error"]["message"]
    body = {"question": "What is the atomic number of carbon?", "grounding": "flag"}
    answered = client.post(QUERY, json=body, headers=auth("ops", "admin"))
    assert answered.status_code == 200 and answered.json()["grounding"]["verdict"] in (
        "supported",
        "unsupported",
    )


def test_over_the_burst_limit_a_429_says_which_limit_and_when(client: TestClient, access):
    access.configure(
        AccessConfig(quotas=QuotaConfig(roles={"student": QuotaPolicy(burst_per_minute=2)}))
    )
    answers = [
        client.post(QUERY, json={"question": "carbon"}, headers=auth("amina")) for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["x-ratelimit-remaining"] == "1"
    refused = answers[2]
    assert refused.json()["error"]["limit"] == "burst" and int(refused.headers["retry-after"]) >= 1
    assert client.post(QUERY, json={"question": "carbon"}, headers=auth("bilal")).status_code == 200
    metrics = client.get("/metrics", headers=auth("ops", "admin")).text
    assert 'tutor_quota_rejections_total{limit="burst"} 1.0' in metrics  # the dashboard's panel


def test_the_daily_token_budget_counts_each_answers_tokens(client: TestClient, access):
    policy = QuotaPolicy(tokens_per_day=15)  # one answer of EchoSourceBackend spends more
    access.configure(AccessConfig(quotas=QuotaConfig(roles={"student": policy})))
    assert client.post(QUERY, json={"question": "carbon"}, headers=auth("amina")).status_code == 200
    refused = client.post(QUERY, json={"question": "carbon"}, headers=auth("amina"))
    assert refused.status_code == 429 and refused.json()["error"]["limit"] == "daily_tokens"


async def stream(tokens: int, usage: Usage | None = None) -> AsyncIterator[AnswerEvent]:
    for number in range(tokens):
        yield TokenEvent(text=f" t{number}")
    if usage is not None:
        yield DoneEvent(usage=usage)


def budget_of(tokens: int) -> AccessControl:
    control = AccessControl(None, Quotas(MemoryQuotaStore()))
    control.configure(
        AccessConfig(quotas=QuotaConfig(roles={"admin": QuotaPolicy(tokens_per_day=tokens)}))
    )
    return control


async def test_streamed_tokens_are_charged_as_they_arrive(monkeypatch):
    monkeypatch.setattr("deployments.api_access.SPEND_EVERY_S", 0.0)  # tokens a second apart
    control, amina = budget_of(20), Principal("amina", "admin")
    events = counted(stream(100), amina, control)
    for _ in range(16):
        await anext(events)
    await control.quotas.admit(amina)  # 16 charged so far: under 20
    for _ in range(8):
        await anext(events)
    with pytest.raises(QuotaExceeded, match="daily_tokens"):  # 24, before the answer ends
        await control.quotas.admit(amina)


async def test_an_answer_whose_client_leaves_still_pays_for_what_streamed():
    control, amina = budget_of(20), Principal("amina", "admin")
    events = counted(stream(100), amina, control)
    for _ in range(24):  # the student closes the page after 24 tokens
        await anext(events)
    await events.aclose()
    with pytest.raises(QuotaExceeded, match="daily_tokens"):
        await control.quotas.admit(amina)


async def test_the_final_usage_settles_the_budget_to_the_backends_exact_count():
    control, amina = budget_of(30), Principal("amina", "admin")
    async for _ in counted(
        stream(16, Usage(prompt_tokens=10, completion_tokens=19)), amina, control
    ):
        pass
    await control.quotas.admit(amina)  # 29 spent: one token left
    async for _ in counted(stream(16, Usage()), amina, control):  # a cached replay owes nothing
        pass
    await control.quotas.admit(amina)
    async for _ in counted(stream(0, Usage(prompt_tokens=1)), amina, control):
        pass
    with pytest.raises(QuotaExceeded, match="daily_tokens"):
        await control.quotas.admit(amina)


@pytest.mark.parametrize(
    "escaped", ["nul\\u0000byte", "lone \\ud800 surrogate"], ids=["nul", "surrogate"]
)
def test_unstorable_text_is_a_422_naming_the_field(client: TestClient, escaped: str):
    """Sent as JSON escapes, as a client would: valid JSON, text no store can keep."""
    headers = {**auth("amina"), "content-type": "application/json"}
    response = client.post(QUERY, content=f'{{"question": "{escaped}"}}', headers=headers)
    assert response.status_code == 422 and "question" in response.json()["error"]["message"]
    body = f'{{"progress": {{"note": "{escaped}"}}}}'
    profile = client.put("/api/v1/users/amina", content=body, headers=headers)
    assert profile.status_code == 422 and "progress.note" in profile.json()["error"]["message"]


def test_the_page_learns_who_is_signed_in_and_only_teachers_see_class_overviews(client):
    me = client.get("/api/v1/me", headers=auth("ms-ade", "teacher", ("7b", "7a")))
    assert me.json() == {"user_id": "ms-ade", "role": "teacher", "classes": ["7a", "7b"]}
    overview = "/api/v1/teacher/overview"
    assert client.get(overview, headers=auth("amina", classes=("7b",))).status_code == 403
    not_hers = client.get(f"{overview}?class_id=9z", headers=auth("ms-ade", "teacher", ("7b",)))
    assert not_hers.status_code == 403 and "9z" in not_hers.json()["error"]["message"]
    # Her own class, with no database behind this app: the dependency is named, not a 500.
    own = client.get(f"{overview}?class_id=7b", headers=auth("ms-ade", "teacher", ("7b",)))
    assert own.status_code == 503 and own.json()["error"]["type"] == "dependency_unavailable"
    assert (
        client.get("/api/v1/ai-tutor/sessions?user_id=bilal", headers=auth("amina")).status_code
        == 403
    )
