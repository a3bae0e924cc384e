"""Merging rankings across shards, then reciprocal rank fusion of the dense and BM25 rankings.

Cosine scores from one embedder are comparable across shards. BM25 scores are not: each shard
weighs a term by its own IDF, so before they merge, hits from several shards are rescored with
the IDF of the shards' union (`retrieval.keyword.rescore`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from retrieval.keyword import collection_idf, rescore
from retrieval.shard import Hit, ShardCandidates

SearchMode = Literal["dense", "keyword", "hybrid", "rerank"]


class FusionParams(BaseModel):
    """Candidate counts and fusion weights; changed live through `user_config`."""

    model_config = ConfigDict(extra="forbid")

    k_dense: int = Field(20, ge=1, le=200, description="Dense candidates per shard.")
    k_keyword: int = Field(20, ge=0, le=200, description="BM25 candidates per shard.")
    dense_weight: float = Field(1.0, ge=0)
    # Tuned on the english dev set (docs/PERFORMANCE.md): a small rrf_k keeps a signal's top
    # hit on top, where 60 (the RRF paper's) lets mid-ranked hits of both lists overtake it.
    keyword_weight: float = Field(0.75, ge=0)
    rrf_k: int = Field(5, ge=1, description="RRF damping: larger flattens rank differences.")
    exact_weight: float = Field(
        1.0,
        ge=0,
        description="Weight of the exact look-up's ranking (entries the question names by "
        "title, or by a field value it gives); 0 leaves it out.",
    )


def dense_ranking(candidates: Sequence[ShardCandidates]) -> list[Hit]:
    hits = [hit for c in candidates for hit in c.dense]
    return sorted(hits, key=lambda h: h.score, reverse=True)


def keyword_ranking(candidates: Sequence[ShardCandidates]) -> list[Hit]:
    hits = [hit for c in candidates for hit in c.keyword]
    if len(candidates) > 1:
        idf = collection_idf([c.term_stats for c in candidates])
        hits = [
            _rescored(hit, rescore(terms, c.term_stats, idf))
            for c in candidates
            for hit, terms in zip(c.keyword, c.keyword_terms, strict=True)
        ]
    return sorted(hits, key=lambda h: h.score, reverse=True)


def exact_ranking(candidates: Sequence[ShardCandidates]) -> list[Hit]:
    # A shard of the release before exact look-up (a rolling upgrade) sends no `exact`.
    hits = [hit for c in candidates for hit in getattr(c, "exact", [])]
    return sorted(hits, key=lambda h: h.score, reverse=True)


def reciprocal_rank_fusion(rankings: Sequence[tuple[list[Hit], float]], rrf_k: int) -> list[Hit]:
    """Each document scores sum(weight / (rrf_k + rank)) over the rankings it appears in."""
    scores: dict[str, float] = {}
    first_seen: dict[str, Hit] = {}
    for ranking, weight in rankings:
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.doc_id] = scores.get(hit.doc_id, 0.0) + weight / (rrf_k + rank)
            first_seen.setdefault(hit.doc_id, hit)
    order = sorted(scores, key=lambda doc_id: scores[doc_id], reverse=True)
    return [_rescored(first_seen[doc_id], scores[doc_id]) for doc_id in order]


def fuse(
    candidates: Sequence[ShardCandidates], params: FusionParams, mode: SearchMode
) -> list[Hit]:
    if mode == "dense":
        return dense_ranking(candidates)
    if mode == "keyword":
        return keyword_ranking(candidates)
    rankings = [
        (dense_ranking(candidates), params.dense_weight),
        (keyword_ranking(candidates), params.keyword_weight),
    ]
    if params.exact_weight > 0:
        rankings.append((exact_ranking(candidates), params.exact_weight))
    return reciprocal_rank_fusion(rankings, params.rrf_k)


def _rescored(hit: Hit, score: float) -> Hit:
    return hit.rescored(score)
