"""`tutor eval answers`: a labelled question set asked of a running tutor over HTTP, a few at a
time, for each backend and answer-check mode, judged from outside (`evaluation.answers`) and
tallied per subject and form (`evaluation.tally`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from enum import StrEnum

import httpx
from rich.console import Console
from rich.progress import Progress

from evaluation.answers import AnswerQuestion
from evaluation.tally import Answered, Column

QUERY = "/api/v1/ai-tutor/query"
ANSWERED = ("ok", "degraded")  # the statuses of an answer; any other is a failure


class HeldOut(StrEnum):
    only = "only"
    exclude = "exclude"
    all = "all"


def select(
    questions: Sequence[AnswerQuestion],
    forms: Sequence[str] = (),
    subjects: Sequence[str] = (),
    held_out: HeldOut = HeldOut.all,
) -> list[AnswerQuestion]:
    """The questions whose form holds one of `forms` (case aside), of one of `subjects`
    (`none`: the unanswerable ones), held out or not."""
    wanted = [f.lower() for f in forms]
    return [
        q
        for q in questions
        if (not wanted or any(w in q.form.lower() for w in wanted))
        and (not subjects or q.subject in subjects)
        and (held_out is HeldOut.all or q.held_out == (held_out is HeldOut.only))
    ]


async def ask(
    client: httpx.AsyncClient, item: AnswerQuestion, backend: str | None, mode: str
) -> Answered:
    body: dict[str, object] = {"question": item.question, "grounding": mode}
    if backend:
        body["backend"] = backend
    start = time.perf_counter()
    try:
        response = await client.post(QUERY, json=body)
    except httpx.HTTPError:
        return Answered(item, "", None, time.perf_counter() - start, failed=True)
    latency = time.perf_counter() - start
    if response.status_code != 200:
        return Answered(item, "", None, latency, failed=True)
    answer = response.json()
    verdict = (answer.get("grounding") or {}).get("verdict")
    failed = answer.get("status") not in ANSWERED
    timings = answer.get("timings_ms") or {}
    check_ms = None
    if "grounding" in timings:
        check_ms = timings["grounding"] + timings.get("repair", 0.0)
    return Answered(item, answer.get("answer") or "", verdict, latency, failed, check_ms)


async def column(
    client: httpx.AsyncClient,
    questions: Sequence[AnswerQuestion],
    backend: str | None,
    mode: str,
    concurrency: int,
    progress: Progress,
) -> Column:
    """One backend and mode over the questions, at most `concurrency` in flight; the rows
    keep the set's order whatever order the answers come back in."""
    name = f"{backend or 'routed'} / {mode}"
    task = progress.add_task(name, total=len(questions))
    gate = asyncio.Semaphore(concurrency)

    async def one(item: AnswerQuestion) -> Answered:
        async with gate:
            answered = await ask(client, item, backend, mode)
        progress.advance(task)
        return answered

    return Column(name, list(await asyncio.gather(*(one(q) for q in questions))))


async def run_async(
    url: str,
    token: str,
    questions: Sequence[AnswerQuestion],
    backends: Sequence[str | None],
    modes: Sequence[str],
    concurrency: int = 4,
    done: Callable[[Column], None] = lambda _: None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> list[Column]:
    """One column per (backend, mode), in turn; `done` sees each as it ends (a long run's
    figures are not lost to an interrupt)."""
    headers = {"Authorization": f"Bearer {token}"}
    columns = []
    client = httpx.AsyncClient(base_url=url, headers=headers, timeout=180, transport=transport)
    with Progress(console=Console(stderr=True), transient=True) as progress:
        async with client:
            for backend in backends:
                for mode in modes:
                    columns.append(
                        await column(client, questions, backend, mode, concurrency, progress)
                    )
                    done(columns[-1])
    return columns


def run(
    url: str,
    token: str,
    questions: Sequence[AnswerQuestion],
    backends: Sequence[str | None],
    modes: Sequence[str],
    concurrency: int = 4,
    done: Callable[[Column], None] = lambda _: None,
) -> list[Column]:
    return asyncio.run(run_async(url, token, questions, backends, modes, concurrency, done))
