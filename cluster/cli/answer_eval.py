"""`tutor eval answers`: a labelled question set asked of a running tutor over HTTP, for each
model and answer-check mode, judged from outside (`models.answer_eval`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from rich.progress import track

from models.answer_eval import AnswerQuestion, Tally, format_report

QUERY = "/api/v1/ai-tutor/query"


def read_questions(path: Path, limit: int | None = None) -> list[AnswerQuestion]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [AnswerQuestion.model_validate_json(line) for line in lines]
    return questions[:limit] if limit else questions


def ask(
    client: httpx.Client, item: AnswerQuestion, backend: str | None, mode: str
) -> dict[str, Any]:
    body: dict[str, object] = {"question": item.question, "grounding": mode}
    if backend:
        body["backend"] = backend
    response = client.post(QUERY, json=body)
    if response.status_code != 200:
        return {"answer": "", "status": f"http {response.status_code}", "grounding": None}
    answer: dict[str, Any] = response.json()
    return answer


def run(
    url: str,
    token: str,
    questions: Sequence[AnswerQuestion],
    backends: Sequence[str | None],
    modes: Sequence[str],
    done: Callable[[Tally], None] = lambda _: None,
) -> list[Tally]:
    """One column per (backend, mode), asked in turn (a CPU model answers one at a time);
    `done` sees each column as it ends (a long run's figures are not lost to an interrupt)."""
    headers = {"Authorization": f"Bearer {token}"}
    tallies = []
    with httpx.Client(base_url=url, headers=headers, timeout=180) as client:
        for backend in backends:
            for mode in modes:
                tallies.append(column(client, questions, backend, mode))
                done(tallies[-1])
    return tallies


def column(
    client: httpx.Client, questions: Sequence[AnswerQuestion], backend: str | None, mode: str
) -> Tally:
    tally = Tally(f"{backend or 'routed'} / {mode}")
    for item in track(questions, description=tally.name):
        start = time.perf_counter()
        answer = ask(client, item, backend, mode)
        if answer["status"] not in ("ok", "degraded"):
            tally.failed += 1
        verdict = (answer.get("grounding") or {}).get("verdict")
        text = answer.get("answer") or ""
        tally.add(item, text, verdict, time.perf_counter() - start)
    return tally


def report(tallies: Sequence[Tally], as_json: bool, show_wrong: int) -> str:
    if as_json:
        return json.dumps(
            [
                {
                    "name": t.name,
                    "asked": t.asked,
                    "accuracy": t.accuracy,
                    "failed": t.failed,
                    "verdicts": t.verdicts,
                    "p50_s": t.percentile(0.5),
                    "p95_s": t.percentile(0.95),
                    "wrong": t.wrong,
                }
                for t in tallies
            ]
        )
    lines = [format_report(tallies)]
    for t in tallies:
        if show_wrong and t.wrong:
            lines.append(f"\nwrong ({t.name}), first {show_wrong}:")
            lines.extend(f"  {w}" for w in t.wrong[:show_wrong])
    return "\n".join(lines)
