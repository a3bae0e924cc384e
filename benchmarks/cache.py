"""The response cache under a student workload, replayed against the running graph.

benchmarks/data/cache_workload.json holds 40 questions, each with its paraphrases, among them
near-miss pairs (noun/pronoun, carbon/oxygen, gold/silver, ...). Requests follow a Zipf-like
popularity over the questions and pick a random paraphrase. Reported: hit rate (exact and
semantic), false-hit rate (a hit whose answer was produced for another question), latency of
hits vs misses, and the model calls and cost the hits saved (priced as the seed's
gpt-4o-mini tier). The graph runs with the shared Redis cache (REDIS_URL, default db 14,
flushed first) and an empty PostgreSQL-free setup.

Usage: python benchmarks/cache.py [--requests 400] [--redis-url redis://127.0.0.1:6379/14]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from dataclasses import dataclass, field

import httpx
import redis
from common import ADMIN, ROOT, running_graph, summary_ms

WORKLOAD = ROOT / "benchmarks" / "data" / "cache_workload.json"
PRICE_IN, PRICE_OUT = 0.00015, 0.0006  # gpt-4o-mini, USD per 1K tokens (serve_config.yaml)


@dataclass
class Tally:
    hits: dict[str, int] = field(default_factory=lambda: {"exact": 0, "semantic": 0})
    misses: int = 0
    false_hits: list[tuple[str, str]] = field(default_factory=list)
    hit_s: list[float] = field(default_factory=list)
    miss_s: list[float] = field(default_factory=list)
    tokens: list[tuple[int, int]] = field(default_factory=list)  # per miss: in, out
    produced_by: dict[str, str] = field(default_factory=dict)  # answer text -> canonical


def schedule(groups: dict[str, list[str]], n: int, s: float, seed: int) -> list[tuple[str, str]]:
    """(canonical, paraphrase) requests, canonical drawn with weight 1/rank^s."""
    rng = random.Random(seed)
    names = list(groups)
    rng.shuffle(names)
    weights = [1 / (rank + 1) ** s for rank in range(len(names))]
    picks = rng.choices(names, weights, k=n)
    return [(name, rng.choice(groups[name])) for name in picks]


def replay(url: str, requests: list[tuple[str, str]]) -> Tally:
    tally = Tally()
    with httpx.Client(base_url=url, timeout=300, headers=ADMIN) as client:
        for canonical, question in requests:
            start = time.perf_counter()
            body = client.post("/api/v1/ai-tutor/query", json={"question": question}).json()
            elapsed = time.perf_counter() - start
            record(tally, canonical, body, elapsed)
    return tally


def record(tally: Tally, canonical: str, body: dict, elapsed: float) -> None:
    cache, answer = body["cache"], body["answer"]
    if not cache["hit"]:
        tally.misses += 1
        tally.miss_s.append(elapsed)
        usage = body.get("usage", {})
        tally.tokens.append((usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)))
        tally.produced_by.setdefault(answer, canonical)
        return
    tally.hits[cache["kind"]] += 1
    tally.hit_s.append(elapsed)
    source = tally.produced_by.get(answer, canonical)
    if source != canonical:
        tally.false_hits.append((canonical, source))


def report(tally: Tally, total: int) -> None:
    hits = sum(tally.hits.values())
    cost_in, cost_out = (statistics.mean(t[i] for t in tally.tokens) for i in (0, 1))
    per_call = (cost_in * PRICE_IN + cost_out * PRICE_OUT) / 1000
    print(
        f"requests {total}: hits {hits} ({hits / total:.1%}; exact {tally.hits['exact']}, "
        f"semantic {tally.hits['semantic']}), misses {tally.misses}"
    )
    print(
        f"false hits {len(tally.false_hits)} ({len(tally.false_hits) / max(hits, 1):.2%} of "
        f"hits) {tally.false_hits[:5]}"
    )
    print(f"hit   latency: {summary_ms(tally.hit_s)}")
    print(f"miss  latency: {summary_ms(tally.miss_s)}")
    print(
        f"model calls saved {hits} of {total} ({hits / total:.1%}); at gpt-4o-mini prices "
        f"${per_call * hits:.4f} saved of ${per_call * total:.4f} "
        f"(mean {cost_in:.0f} tokens in, {cost_out:.0f} out per answer)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    workload = json.loads(WORKLOAD.read_text())
    n = args.requests or workload["requests"]
    requests = schedule(workload["groups"], n, workload["zipf_s"], workload["seed"])
    redis.Redis.from_url(args.redis_url).flushdb()
    with running_graph(env={"REDIS_URL": args.redis_url}) as graph:
        tally = replay(graph.url, requests)
    report(tally, n)


if __name__ == "__main__":
    main()
