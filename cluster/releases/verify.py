"""`tutor verify`: is the deployed tutor answering as it should? A fixed set of checks, each
with a budget: readiness, every shard and model node healthy and serving the versions the
release asks for, smoke questions that must find their known source in time, and metrics.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import BaseModel, ConfigDict, Field


class SmokeQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str
    subject: str | None = None
    expect_source: str = Field(description="A document id that must be among the sources.")
    answer: bool = Field(False, description="Also ask for a full answer (a model call).")


class SmokeSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ready_budget_s: float = Field(5.0, gt=0)
    search_budget_s: float = Field(2.0, gt=0)
    answer_budget_s: float = Field(30.0, gt=0)
    metrics_wait_s: float = Field(30.0, ge=0, description="Ray exports metrics every ~10 s.")
    questions: list[SmokeQuestion] = Field(min_length=1)


def load_smoke_set(path: Path) -> SmokeSet:
    return SmokeSet.model_validate(yaml.safe_load(path.read_text()))


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    seconds: float

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        return f"{mark} {self.name:44} {self.seconds:6.2f}s  {self.detail}"


@dataclass(frozen=True)
class Verification:
    checks: list[Check]

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def passed(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        if self.passed:
            return f"{len(self.checks)} checks passed"
        return "verification failed: " + "; ".join(f"{c.name}: {c.detail}" for c in self.failed)


Probe = Callable[[], Awaitable[tuple[bool, str]]]


async def timed(name: str, budget_s: float, probe: Probe) -> Check:
    """Run PROBE; over its budget (or an HTTP error) is a failure that says so."""
    started = time.perf_counter()
    try:
        ok, detail = await asyncio.wait_for(probe(), timeout=budget_s * 2 + 1)
    except (httpx.HTTPError, TimeoutError, ValueError, KeyError) as exc:
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - started
    if ok and seconds > budget_s:
        ok, detail = False, f"over its {budget_s:.1f}s budget ({detail})"
    return Check(name, ok, detail, seconds)


class Verifier:
    def __init__(self, client: httpx.AsyncClient, smoke: SmokeSet) -> None:
        self.client, self.smoke = client, smoke

    async def run(self, expected_models: dict[str, str] | None = None) -> Verification:
        smoke = self.smoke
        checks = [await timed("ready", smoke.ready_budget_s, self._ready)]
        checks.append(
            await timed(
                "components", smoke.ready_budget_s, lambda: self._components(expected_models)
            )
        )
        for q in smoke.questions:
            checks.append(
                await timed(f"search: {q.question}", smoke.search_budget_s, self._search(q))
            )
            if q.answer:
                checks.append(
                    await timed(f"answer: {q.question}", smoke.answer_budget_s, self._answer(q))
                )
        budget = smoke.metrics_wait_s + smoke.ready_budget_s
        checks.append(await timed("metrics", budget, self._metrics))
        return Verification(checks)

    async def _ready(self) -> tuple[bool, str]:
        response = await self.client.get("/health/ready")
        return response.status_code == 200, f"HTTP {response.status_code} {response.text[:200]}"

    async def _components(self, expected: dict[str, str] | None) -> tuple[bool, str]:
        response = await self.client.get("/health/detailed")
        response.raise_for_status()
        problems = component_problems(response.json()["components"], expected or {})
        return not problems, "; ".join(problems) or "every shard and model node healthy"

    def _search(self, q: SmokeQuestion) -> Probe:
        async def probe() -> tuple[bool, str]:
            body = {"query": q.question, "subject": q.subject, "k": 5}
            response = await self.client.post("/api/v1/retrieval/search", json=body)
            response.raise_for_status()
            found = [hit["id"] for hit in response.json()["results"]]
            return expected_in(q.expect_source, found)

        return probe

    def _answer(self, q: SmokeQuestion) -> Probe:
        async def probe() -> tuple[bool, str]:
            body = {"question": q.question, "subject": q.subject}
            response = await self.client.post("/api/v1/ai-tutor/query", json=body)
            if response.status_code != 200:
                return False, f"HTTP {response.status_code} {response.text[:200]}"
            answer = response.json()
            if not answer.get("answer"):
                return False, f"no answer text (status {answer.get('status')})"
            return expected_in(q.expect_source, [s["id"] for s in answer["sources"]])

        return probe

    async def _metrics(self) -> tuple[bool, str]:
        deadline = time.monotonic() + self.smoke.metrics_wait_s
        while True:
            response = await self.client.get("/metrics")
            if response.status_code == 200 and "tutor_requests" in response.text:
                return True, "the tutor's request metrics are exported"
            if time.monotonic() >= deadline:
                return False, f"HTTP {response.status_code}, no tutor_requests family"
            await asyncio.sleep(2)


def expected_in(expected: str, found: list[str]) -> tuple[bool, str]:
    if expected in found:
        return True, f"{expected} at rank {found.index(expected) + 1}"
    return False, f"{expected} not among the sources {found}"


def component_problems(components: dict[str, Any], expected: dict[str, str]) -> list[str]:
    """Shards not healthy, model nodes unhealthy or serving another version than the release's."""
    problems = []
    shards = components.get("vector_store", {}).get("shards", {})
    for subject, shard in sorted(shards.items()):
        if shard.get("status") != "healthy":
            problems.append(f"shard {subject} is {shard.get('status')}: {shard.get('error', '')}")
    for backend, version in sorted(expected.items()):
        node = components.get(f"llm:{backend}")
        if node is None:
            continue  # a tier not deployed here (no OPENAI_API_KEY): the routes skip it
        if node.get("status") != "healthy":
            problems.append(f"llm:{backend} is {node.get('status')}: {node.get('error', '')}")
        elif version not in (node.get("version"), node.get("model")):
            detail = node.get("swap_error") or "the release asked for it"
            problems.append(f"llm:{backend} serves {node.get('version')}, not {version} ({detail})")
    return problems
