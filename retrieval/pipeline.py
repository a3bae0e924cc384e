"""The search path's pure steps, shared by the in-process retriever and the Serve router."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from retrieval.errors import UnknownSubjectError
from retrieval.fusion import FusionParams, SearchMode, fuse
from retrieval.reranker import passage_for_scoring, reorder
from retrieval.shard import Hit, ShardCandidates


class SearchParams(BaseModel):
    """Everything that shapes a search; lives in the router's `user_config`."""

    model_config = ConfigDict(extra="forbid")

    # Hybrid: recall@10 0.418 against dense's 0.358 on the english dev set (PERFORMANCE.md).
    mode: SearchMode = Field("hybrid", description="What the graph serves by default.")
    fusion: FusionParams = Field(default_factory=FusionParams)
    # 10: the shipped recipe's reranker sharpens the head of the top 10 (recall@1 +45%) but,
    # given deeper lists, pushes right answers out of it (docs/PERFORMANCE.md).
    rerank_top_n: int = Field(10, ge=1, le=100, description="Fused candidates the reranker sees.")
    max_query_chars: int = Field(4000, ge=1)


def select_subjects(subject: str | None, known: Sequence[str]) -> list[str]:
    """The shards a query goes to: its subject's, or all of them."""
    if subject is None:
        return list(known)
    if subject not in known:
        raise UnknownSubjectError(subject, list(known))
    return [subject]


def candidate_counts(mode: SearchMode, fusion: FusionParams) -> tuple[int, int]:
    """(dense, keyword) candidates per shard; a single-signal mode skips the other search."""
    if mode == "dense":
        return fusion.k_dense, 0
    if mode == "keyword":
        return 0, max(fusion.k_keyword, 1)
    return fusion.k_dense, fusion.k_keyword


def first_stage(candidates: Sequence[ShardCandidates], params: SearchParams) -> list[Hit]:
    mode = "hybrid" if params.mode == "rerank" else params.mode
    return fuse(candidates, params.fusion, mode)


def rerank_pairs(query: str, hits: list[Hit]) -> list[tuple[str, str]]:
    return [(query, passage_for_scoring(hit)) for hit in hits]


def apply_rerank(hits: list[Hit], scores: list[float], k: int) -> list[Hit]:
    return reorder(hits, scores)[:k]
