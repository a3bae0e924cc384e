"""Offline retrieval evaluation: ranking metrics, latency percentiles, and a per-mode runner.

Pure functions over ranked id lists and gold sets; the runner drives a `LocalRetriever` (no Ray).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.local import LocalRetriever
from retrieval.pipeline import SearchParams

RECALL_CUTOFFS = (1, 5, 10)
PERCENTILES = (50, 95, 99)


@dataclass(frozen=True)
class EvalCase:
    """One query and the ids of the documents that answer it."""

    query: str
    gold: frozenset[str]


@dataclass(frozen=True)
class ModeReport:
    """A mode's metrics (means over queries) and its per-query latency percentiles in ms."""

    mode: str
    queries: int
    metrics: dict[str, float] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)

    def row(self) -> dict[str, float]:
        return {**self.metrics, **self.latency_ms}


def recall_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    """Share of the gold ids found in the top k (with one gold id: 1 if found, else 0)."""
    if not gold:
        return 0.0
    return len(set(ranked[:k]) & set(gold)) / len(gold)


def reciprocal_rank(ranked: Sequence[str], gold: Collection[str], k: int = 10) -> float:
    """1/rank of the first gold id within the top k, 0 when none is there."""
    for rank, doc_id in enumerate(ranked[:k], start=1):
        if doc_id in gold:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], gold: Collection[str], k: int = 10) -> float:
    """Binary-relevance nDCG: DCG of the top k over the DCG of a perfect ranking."""
    dcg = sum(1.0 / math.log2(rank + 1) for rank, d in enumerate(ranked[:k], 1) if d in gold)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(gold), k) + 1))
    return dcg / ideal if ideal else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile with linear interpolation between order statistics (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float]:
    return {f"p{q}_ms": percentile(latencies_ms, q) for q in PERCENTILES}


def metric_names(k: int) -> list[str]:
    cutoffs = sorted({*RECALL_CUTOFFS, k})
    return [f"recall@{c}" for c in cutoffs] + [f"mrr@{k}", f"ndcg@{k}"]


def query_metrics(ranked: Sequence[str], gold: Collection[str], k: int) -> dict[str, float]:
    """Every metric of one ranked list; `k` is the MRR/nDCG depth and an extra recall cutoff."""
    recalls = {f"recall@{c}": recall_at_k(ranked, gold, c) for c in sorted({*RECALL_CUTOFFS, k})}
    return {
        **recalls,
        f"mrr@{k}": reciprocal_rank(ranked, gold, k),
        f"ndcg@{k}": ndcg_at_k(ranked, gold, k),
    }


def mean_metrics(per_query: Sequence[dict[str, float]]) -> dict[str, float]:
    if not per_query:
        return {}
    return {name: sum(m[name] for m in per_query) / len(per_query) for name in per_query[0]}


def score_rankings(
    rankings: Iterable[Sequence[str]], cases: Sequence[EvalCase], k: int
) -> dict[str, float]:
    """Mean metrics of ranked id lists, one per case, in the cases' order."""
    per_query = [
        query_metrics(ranked, case.gold, k) for ranked, case in zip(rankings, cases, strict=True)
    ]
    return mean_metrics(per_query)


def read_cases(path: Path) -> list[EvalCase]:
    """A JSONL file of {"query": str, "gold": [doc ids]} lines (blank lines ignored)."""
    cases = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                cases.append(EvalCase(row["query"], frozenset(row["gold"])))
    return cases


def with_mode(params: SearchParams, mode: str) -> SearchParams:
    # model_validate, not model_copy: a misspelt mode must fail here, not silently run hybrid.
    return SearchParams.model_validate({**params.model_dump(), "mode": mode})


def timed_rankings(
    retriever: LocalRetriever,
    cases: Sequence[EvalCase],
    depth: int,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[list[list[str]], list[float]]:
    """Each case's ranked ids, and each search's wall time in ms (query prep to final list)."""
    rankings, latencies = [], []
    for case in cases:
        start = clock()
        hits = retriever.search(case.query, k=depth)
        latencies.append((clock() - start) * 1000)
        rankings.append([h.doc_id for h in hits])
    return rankings, latencies


def evaluate_mode(
    retriever: LocalRetriever, cases: Sequence[EvalCase], mode: str, k: int = 10
) -> ModeReport:
    """Run every case in `mode` on `retriever` (whose other params are kept) and score it."""
    if mode == "rerank" and retriever.reranker is None:
        # LocalRetriever would quietly fall back to hybrid and report it as "rerank".
        raise ValueError("mode 'rerank' needs a reranker")
    retriever.params = with_mode(retriever.params, mode)
    if cases:
        retriever.search(cases[0].query, k=k)  # warm-up: first-call allocations are not latency
    rankings, latencies = timed_rankings(retriever, cases, max(k, *RECALL_CUTOFFS))
    metrics = score_rankings(rankings, cases, k)
    return ModeReport(mode, len(cases), metrics, latency_summary(latencies) if cases else {})


def evaluate(
    retriever: LocalRetriever, cases: Sequence[EvalCase], modes: Sequence[str], k: int = 10
) -> list[ModeReport]:
    """One report per mode, in the order given; the retriever's params are restored after."""
    original = retriever.params
    try:
        return [evaluate_mode(retriever, cases, mode, k) for mode in modes]
    finally:
        retriever.params = original
