"""A few minutes of mixed traffic for the dashboard's screenshot (docs/MONITORING.md): questions
from benchmarks/questions.txt (a few asked again and again, for cache hits), searches, bad
requests (422, 404) and one student over their burst quota (429), bounded in count and time.

Usage: python scripts/dashboard_load.py http://127.0.0.1:8300 --minutes 4 \
           --token-cmd '.venv/bin/tutor token {user} --role {role}'
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shlex
import subprocess
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = (ROOT / "benchmarks" / "questions.txt").read_text().splitlines()
SEARCHES = ["hash function", "noble gas", "adjective", "recursion", "isotope", "compiler"]


def token(command: str, user: str, role: str) -> str:
    argv = shlex.split(command.format(user=user, role=role))
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()


async def ask(client: httpx.AsyncClient, auth: str, question: str) -> int:
    body = {"question": question}
    response = await client.post(
        "/api/v1/ai-tutor/query", json=body, headers={"Authorization": auth}
    )
    return response.status_code


async def student(client: httpx.AsyncClient, auth: str, until: float, seen: Counter[str]) -> None:
    """Mostly the first ten questions again (cache hits), sometimes a new one (a model call)."""
    while time.monotonic() < until:
        pool = QUESTIONS[:10] if random.random() < 0.7 else QUESTIONS
        seen[f"query {await ask(client, auth, random.choice(pool))}"] += 1
        search = {"query": random.choice(SEARCHES), "k": 5}
        response = await client.post(
            "/api/v1/retrieval/search", json=search, headers={"Authorization": auth}
        )
        seen[f"search {response.status_code}"] += 1


async def mischief(
    client: httpx.AsyncClient, auth: str, greedy: str, until: float, seen: Counter[str]
) -> None:
    """Bad requests now and then, and a burst over one student's per-minute quota."""
    while time.monotonic() < until:
        headers = {"Authorization": auth}
        bad = await client.post("/api/v1/ai-tutor/query", json={"question": ""}, headers=headers)
        missing = await client.get("/api/v1/ai-tutor/session/not-a-session-id", headers=headers)
        seen[f"bad {bad.status_code}"] += 1
        seen[f"missing {missing.status_code}"] += 1
        for _ in range(25):  # the default student burst is 20 a minute
            seen[f"burst {await ask(client, greedy, QUESTIONS[0])}"] += 1
        await asyncio.sleep(40)


async def health(client: httpx.AsyncClient, admin: str, until: float) -> None:
    """/health/detailed refreshes the breaker gauges, as a monitor polling it would."""
    while time.monotonic() < until:
        await client.get("/health/detailed", headers={"Authorization": admin})
        await asyncio.sleep(15)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--students", type=int, default=2)
    parser.add_argument("--token-cmd", required=True)
    args = parser.parse_args()
    bearer = lambda user, role: f"Bearer {token(args.token_cmd, user, role)}"  # noqa: E731
    until = time.monotonic() + 60 * args.minutes
    seen: Counter[str] = Counter()
    async with httpx.AsyncClient(base_url=args.url, timeout=120) as client:
        await asyncio.gather(
            *(
                student(client, bearer(f"student{i}", "student"), until, seen)
                for i in range(args.students)
            ),
            mischief(
                client, bearer("student-x", "student"), bearer("greedy", "student"), until, seen
            ),
            health(client, bearer("monitor", "admin"), until),
        )
    print(dict(sorted(seen.items())))


if __name__ == "__main__":
    asyncio.run(main())
