"""What the simulated students ask, and what a locust run measured: plain Python, no locust,
so that `tests/unit/test_load_workload.py` checks it.

The questions are the demo curriculum's (`data/curriculum`): the 40 school-level questions of
the cache benchmark (with their paraphrases) are the most asked, then one question per
template and document title, in a seeded order. Popularity is Zipf (weight 1/rank^s). After an
answer a student may ask a follow-up that leans on it ("Who discovered it?"), which the tutor
rewrites to stand alone, in the same session.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import itertools
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CURRICULUM = ROOT / "data" / "curriculum"
CURATED = ROOT / "benchmarks" / "data" / "cache_workload.json"

# One question per template and title; every follow-up names its topic by a pronoun only, so
# it is a follow-up (rewritten with the previous answer's topic), never a question of its own.
TEMPLATES = {
    "chemistry": (
        "What is the atomic number of {}?",
        "What is the symbol of {}?",
        "Who discovered {}?",
        "What is {} used for?",
    ),
    "computing": ("What is {} in computing?", "Define {}."),
    "english": ("What does {} mean?", "Define the word {}."),
}
FOLLOW_UPS = {
    "chemistry": ("What is its atomic weight?", "Who discovered it?", "Is it a metal?"),
    "computing": ("What is it used for?", "Can you give an example of it?"),
    "english": ("Can you use it in a sentence?", "What is the opposite of it?"),
    "": ("Can you give an example of it?", "Why does it matter?"),
}


@dataclass(frozen=True)
class Topic:
    subject: str  # "" when not known (the curated questions span the subjects)
    phrasings: tuple[str, ...]


def curated_topics(path: Path = CURATED) -> list[Topic]:
    groups: dict[str, list[str]] = json.loads(path.read_text())["groups"]
    return [Topic("", tuple(phrasings)) for phrasings in groups.values()]


def curriculum_topics(directory: Path = CURRICULUM, seed: int = 17) -> list[Topic]:
    topics = []
    for subject, templates in TEMPLATES.items():
        with gzip.open(directory / f"{subject}.jsonl.gz", "rt") as lines:
            titles = [json.loads(line)["title"] for line in lines]
        topics += [Topic(subject, (t.format(title),)) for title in titles for t in templates]
    random.Random(seed).shuffle(topics)
    return topics


def catalogue() -> list[Topic]:
    """Most asked first: the curated questions, then the curriculum's in a seeded order."""
    return curated_topics() + curriculum_topics()


class Zipf:
    """Draws ranks 0..n-1 with weight 1/(rank+1)^s."""

    def __init__(self, n: int, s: float) -> None:
        weights = [1 / (rank + 1) ** s for rank in range(n)]
        self.cumulative = list(itertools.accumulate(weights))

    def draw(self, rng: random.Random) -> int:
        point = rng.random() * self.cumulative[-1]
        return min(bisect.bisect_right(self.cumulative, point), len(self.cumulative) - 1)


@dataclass(frozen=True)
class Ask:
    question: str
    new_session: bool  # start a new conversation before asking
    follow_up: bool


class Student:
    """One simulated student's questions: a topic drawn by popularity, then up to
    `max_follow_ups` follow-ups on it (each with probability `p_follow_up`); a new session
    every `session_questions` questions."""

    def __init__(
        self,
        topics: list[Topic],
        zipf: Zipf,
        rng: random.Random,
        p_follow_up: float = 0.4,
        max_follow_ups: int = 2,
        session_questions: int = 5,
    ) -> None:
        self.topics, self.zipf, self.rng = topics, zipf, rng
        self.p_follow_up, self.max_follow_ups = p_follow_up, max_follow_ups
        self.session_questions = session_questions
        self.topic: Topic | None = None
        self.follow_ups = 0
        self.in_session = 0

    def next(self) -> Ask:
        new_session = self.in_session == 0 or self.in_session >= self.session_questions
        self.in_session = 1 if new_session else self.in_session + 1
        if not new_session and self._follows_up():
            assert self.topic is not None
            self.follow_ups += 1
            return Ask(self.rng.choice(FOLLOW_UPS[self.topic.subject]), False, True)
        self.topic, self.follow_ups = self.topics[self.zipf.draw(self.rng)], 0
        return Ask(self.rng.choice(self.topic.phrasings), new_session, False)

    def _follows_up(self) -> bool:
        if self.topic is None or self.follow_ups >= self.max_follow_ups:
            return False
        return self.rng.random() < self.p_follow_up


def first_delay(rng: random.Random, low: float, high: float) -> float:
    """How long a student who has just arrived waits before the first question, so that a
    crowd spawned at once asks at the steady rate from the start: the residual life of a
    uniform(low, high) think time (density P(think > t) / mean), not a burst at t=0."""
    mean = (low + high) / 2
    if rng.random() < low / mean:
        return rng.uniform(0, low)
    return high - (high - low) * math.sqrt(rng.random())


ASK = "ask"  # every question's request name, follow-ups included: one latency distribution


@dataclass(frozen=True)
class Figures:
    """One locust run's questions (the `ask` row of its `--csv` stats), and the failures of
    every other request (session starts)."""

    requests: int
    failures: int
    other_failures: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def read_stats(stats_csv: Path) -> Figures:
    with stats_csv.open() as handle:
        rows = [r for r in csv.DictReader(handle) if r["Name"] != "Aggregated"]
    asks = [r for r in rows if r["Name"] == ASK]
    if not asks:
        raise ValueError(f"no {ASK!r} row in {stats_csv}: no question was sent")
    ask = asks[0]
    return Figures(
        requests=int(ask["Request Count"]),
        failures=int(ask["Failure Count"]),
        other_failures=sum(int(r["Failure Count"]) for r in rows if r["Name"] != ASK),
        rps=float(ask["Requests/s"]),
        p50_ms=float(ask["50%"]),
        p95_ms=float(ask["95%"]),
        p99_ms=float(ask["99%"]),
    )
