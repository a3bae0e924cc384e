"""A steady stream of student questions against a running tutor, in a thread of its own, so a
test can break things while it runs and then count what every request got.

Each worker asks in a session of its own, so that afterwards the test can check that every
answered turn is in its session (nothing lost). Bounded in time and count; loopback only.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

QUESTIONS = [
    "What is the atomic number of carbon?",
    "What is the symbol of gold?",
    "What is the atomic weight of oxygen?",
    "Who discovered helium?",
    "What is a noun?",
    "Define recursion",
    "What is a hash function?",
    "What is the atomic number of iron?",
]


@dataclass
class Outcome:
    at: float  # seconds since the load started, when the request was sent
    latency_s: float
    http_status: int  # 0: no response (timeout or connection error)
    status: str = ""  # the answer's status: ok | degraded | error
    backend: str | None = None
    session_id: str = ""
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.http_status == 0 or self.http_status >= 500


@dataclass
class Summary:
    sent: int
    ok: int
    degraded: int
    failed: int
    p50_s: float
    p95_s: float
    backends: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"sent {self.sent}, ok {self.ok}, degraded {self.degraded}, failed {self.failed}, "
            f"p50 {self.p50_s:.2f}s, p95 {self.p95_s:.2f}s, backends {self.backends}"
        )


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1]


def summarize(outcomes: list[Outcome]) -> Summary:
    latencies = [o.latency_s for o in outcomes if not o.failed]
    backends: dict[str, int] = {}
    for o in outcomes:
        if o.backend:
            backends[o.backend] = backends.get(o.backend, 0) + 1
    return Summary(
        sent=len(outcomes),
        ok=sum(o.status == "ok" for o in outcomes),
        degraded=sum(o.status == "degraded" for o in outcomes),
        failed=sum(o.failed for o in outcomes),
        p50_s=percentile(latencies, 0.50),
        p95_s=percentile(latencies, 0.95),
        backends=backends,
    )


class SteadyLoad:
    def __init__(
        self,
        url: str,
        workers: int = 3,
        timeout_s: float = 60.0,
        headers: dict[str, str] | None = None,
        session_questions: int | None = None,
    ) -> None:
        """`session_questions`: a new session every N questions, so that prompts are as long
        in one phase as in another (a benchmark comparing phases); None: one session a worker
        throughout (a test then checks every turn of it was kept)."""
        self.session_questions = session_questions
        self.url = url
        self.headers = headers or {}
        self.workers = workers
        self.timeout_s = timeout_s
        self.outcomes: list[Outcome] = []
        self._stop = threading.Event()
        self._start = 0.0
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def start(self) -> SteadyLoad:
        self._start = time.monotonic()
        self._thread.start()
        return self

    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def stop(self) -> list[Outcome]:
        self._stop.set()
        self._thread.join(timeout=self.timeout_s + 10)
        return list(self.outcomes)

    async def _run(self) -> None:
        async with httpx.AsyncClient(
            base_url=self.url, timeout=self.timeout_s, headers=self.headers
        ) as client:
            await asyncio.gather(*(self._worker(client, n) for n in range(self.workers)))

    async def _worker(self, client: httpx.AsyncClient, number: int) -> None:
        session_id, in_session = await self._session(client), 0
        asked = number
        while not self._stop.is_set():
            if self.session_questions is not None and in_session == self.session_questions:
                session_id, in_session = await self._session(client), 0
            question = QUESTIONS[asked % len(QUESTIONS)]
            asked, in_session = asked + 1, in_session + 1
            self.outcomes.append(await self._ask(client, question, session_id))

    async def _session(self, client: httpx.AsyncClient) -> str:
        for _ in range(30):
            response = await client.post("/api/v1/ai-tutor/session/start", json={})
            if response.status_code == 201:
                session_id: str = response.json()["session_id"]
                return session_id
            await asyncio.sleep(1)
        raise RuntimeError(f"no session: {response.status_code} {response.text}")

    async def _ask(self, client: httpx.AsyncClient, question: str, session_id: str) -> Outcome:
        at = self.elapsed()
        body = {"question": question, "session_id": session_id}
        try:
            response = await client.post("/api/v1/ai-tutor/query", json=body)
        except httpx.HTTPError as error:
            return Outcome(at, self.elapsed() - at, 0, "error", None, session_id, repr(error))
        latency = self.elapsed() - at
        if response.status_code != 200:
            return Outcome(
                at, latency, response.status_code, "error", None, session_id, response.text
            )
        answer = response.json()
        backend = (answer.get("route") or "").split("->")[-1] or None
        return Outcome(at, latency, 200, answer["status"], backend, session_id)


@contextmanager
def steady_load(
    url: str,
    workers: int = 3,
    headers: dict[str, str] | None = None,
    session_questions: int | None = None,
) -> Iterator[SteadyLoad]:
    load = SteadyLoad(url, workers, headers=headers, session_questions=session_questions).start()
    try:
        yield load
    finally:
        load.stop()


def answered_turns(outcomes: list[Outcome]) -> dict[str, int]:
    """Per session, how many of its answers were whole (each adds a user and a tutor turn)."""
    turns: dict[str, int] = {}
    for o in outcomes:
        if o.status == "ok":
            turns[o.session_id] = turns.get(o.session_id, 0) + 2
    return turns
