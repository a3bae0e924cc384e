"""Simulated students for locust: each signs in with a token of its own, starts a session,
asks a question drawn by popularity from the demo curriculum, reads for a while (think time),
maybe asks a follow-up on the answer, and so on (`workload.Student`).

Usage (benchmarks/load/run.py runs it, with the tokens it minted):
    locust -f benchmarks/load/locustfile.py --headless -u 100 -r 20 -t 90s --host URL \
        --tokens-file tokens.json [--think-min 20 --think-max 60 --tally-file tally.json]

Every question is a request named `ask` (follow-ups too: one latency distribution); an answer
that is not `status: ok` (degraded to its sources) counts as a failure. Cache hits, by kind,
and the backends that answered are tallied into `--tally-file` (reset with the stats when
spawning completes, as `--reset-stats` does).
"""

from __future__ import annotations

import functools
import itertools
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from locust import FastHttpUser, events, task
from locust.env import Environment

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workload import ASK, Student, Zipf, catalogue, first_delay  # noqa: E402

TOPICS = catalogue()
ZIPF_S = 1.1  # as the cache benchmark's workload (benchmarks/data/cache_workload.json)
ZIPF = Zipf(len(TOPICS), ZIPF_S)
TALLY: Counter[str] = Counter()
SEATS = itertools.count()  # which token the next student takes


@functools.cache
def tokens_in(path: str) -> list[str]:
    tokens: list[str] = json.loads(Path(path).read_text())
    return tokens


@events.init_command_line_parser.add_listener
def add_arguments(parser: Any) -> None:
    parser.add_argument("--tokens-file", default="", help="JSON list of bearer tokens")
    parser.add_argument("--think-min", type=float, default=20.0)
    parser.add_argument("--think-max", type=float, default=60.0)
    parser.add_argument("--tally-file", default="", help="cache hits and backends, as JSON")
    parser.add_argument("--seed", type=int, default=20261201)


@events.spawning_complete.add_listener
def reset_tally(user_count: int) -> None:
    del user_count
    TALLY.clear()


@events.quitting.add_listener
def write_tally(environment: Environment) -> None:
    path = environment.parsed_options.tally_file if environment.parsed_options else ""
    if path:
        Path(path).write_text(json.dumps(dict(TALLY), indent=1))


class StudentUser(FastHttpUser):  # gevent HTTP client: ~5x cheaper per request than requests
    network_timeout = 60.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        options = self.environment.parsed_options
        assert options is not None
        seat = next(SEATS)
        tokens = tokens_in(options.tokens_file)
        self.auth = {"Authorization": f"Bearer {tokens[seat % len(tokens)]}"}
        self.rng = random.Random(options.seed + seat)
        self.think = (options.think_min, options.think_max)
        self.student = Student(TOPICS, ZIPF, self.rng)
        self.session_id: str | None = None
        time.sleep(first_delay(self.rng, *self.think))  # gevent-patched: this user only

    def wait_time(self) -> float:
        return self.rng.uniform(*self.think)

    @task
    def ask(self) -> None:
        ask = self.student.next()
        if ask.new_session:
            self.session_id = self.start_session()
        body = {"question": ask.question, "session_id": self.session_id}
        url = "/api/v1/ai-tutor/query"
        with self.rest("POST", url, headers=self.auth, json=body, name=ASK) as response:
            if response.status_code == 200 and response.js is not None:
                self.record(response, response.js, ask.follow_up)
            # else locust has recorded the failure: the status, or a body that is not JSON

    def start_session(self) -> str | None:
        url = "/api/v1/ai-tutor/session/start"
        with self.rest("POST", url, headers=self.auth, json={}, name="session start") as response:
            return None if response.js is None else response.js.get("session_id")

    def record(self, response: Any, answer: dict[str, Any], follow_up: bool) -> None:
        if answer.get("status") != "ok":
            response.failure(f"answer status {answer.get('status')}")
            return
        cache = answer.get("cache") or {}
        TALLY["answers"] += 1
        TALLY["follow_ups"] += follow_up
        TALLY[f"cache_{cache.get('kind', 'exact')}" if cache.get("hit") else "cache_miss"] += 1
        TALLY[f"backend_{answer.get('model', 'none')}"] += 1
