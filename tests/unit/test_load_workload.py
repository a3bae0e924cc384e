"""The load benchmark's simulated students (benchmarks/load/workload.py): what they ask, when
they start, and how a locust run's CSV is read."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.load.workload import (
    FOLLOW_UPS,
    Student,
    Topic,
    Zipf,
    catalogue,
    first_delay,
    read_stats,
)
from conversation.context import refers_back


def test_popular_questions_are_asked_in_zipf_proportions() -> None:
    zipf, rng = Zipf(1000, 1.1), random.Random(1)
    counts = Counter(zipf.draw(rng) for _ in range(50_000))
    # rank 1 is asked 2^1.1 = 2.14 times as often as rank 2, 3^1.1 = 3.35 times rank 3
    assert counts[0] / counts[1] == pytest.approx(2**1.1, rel=0.1)
    assert counts[0] / counts[2] == pytest.approx(3**1.1, rel=0.1)
    assert max(counts) < 1000


def test_the_curated_school_questions_are_the_most_asked() -> None:
    topics = catalogue()
    assert topics[0].phrasings[0] == "What is the atomic number of carbon?"
    assert len(topics) > 8000  # the long tail: one per template and curriculum title


def test_every_follow_up_is_one_the_tutor_rewrites_with_the_previous_answer() -> None:
    """A follow-up that did not lean on the answer would be a question of its own, and be
    answered (and cached) the same for every topic."""
    assert all(refers_back(q) for questions in FOLLOW_UPS.values() for q in questions)


def test_a_student_follows_up_on_a_topic_then_moves_on_and_starts_new_sessions() -> None:
    topics = [Topic("chemistry", (f"Who discovered element {n}?",)) for n in range(50)]
    student = Student(topics, Zipf(50, 1.1), random.Random(3), session_questions=5)
    asks = [student.next() for _ in range(500)]
    assert asks[0].new_session and not asks[0].follow_up
    assert all(ask.question in FOLLOW_UPS["chemistry"] for ask in asks if ask.follow_up)
    assert 0.15 < sum(a.follow_up for a in asks) / len(asks) < 0.4
    in_a_row = 0
    for ask in asks:
        in_a_row = in_a_row + 1 if ask.follow_up else 0
        assert in_a_row <= 2
        assert not (ask.follow_up and ask.new_session)
    assert [n for n, a in enumerate(asks) if a.new_session][:3] == [0, 5, 10]


def test_students_spawned_at_once_ask_at_the_steady_rate_from_the_start() -> None:
    rng, low, high = random.Random(5), 20.0, 60.0
    arrivals: list[float] = []
    for _ in range(20_000):
        at = first_delay(rng, low, high)
        while at < 120:
            arrivals.append(at)
            at += rng.uniform(low, high)
    first, later = (sum(start <= a < start + 30 for a in arrivals) for start in (0, 80))
    steady = 20_000 / ((low + high) / 2) * 30
    assert first == pytest.approx(steady, rel=0.03)
    assert later == pytest.approx(steady, rel=0.03)


LOCUST_HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)


def test_a_locust_csv_gives_the_questions_figures_and_every_failure(tmp_path: Path) -> None:
    stats = tmp_path / "run_stats.csv"
    stats.write_text(
        "\n".join(
            [
                LOCUST_HEADER,
                "POST,ask,1200,3,340,380,301,2100,900,20.5,0.05,340,350,360,370,420,610,900,"
                "1300,2100,2100,2100",
                "POST,session start,400,1,12,14,3,90,120,6.8,0.01,12,13,14,15,20,30,50,70,90,90,90",
                ",Aggregated,1600,4,300,290,3,2100,700,27.3,0.06,300,340,350,360,400,600,800,"
                "1200,2100,2100,2100",
            ]
        )
    )
    figures = read_stats(stats)
    assert (figures.requests, figures.failures, figures.other_failures) == (1200, 3, 1)
    assert (figures.rps, figures.p50_ms, figures.p95_ms, figures.p99_ms) == (20.5, 340, 610, 1300)
