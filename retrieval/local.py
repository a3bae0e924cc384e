"""The whole search path in one process: for `tutor search`, evaluation and benchmark baselines."""

from __future__ import annotations

from pathlib import Path

from retrieval.embedder import Embedder, Vectors
from retrieval.pipeline import (
    SearchParams,
    apply_rerank,
    candidate_counts,
    first_stage,
    rerank_pairs,
    select_subjects,
)
from retrieval.preprocess import PreparedQuery, prepare_query
from retrieval.reranker import Reranker
from retrieval.shard import Hit, Shard
from retrieval.store import ShardStore


class LocalRetriever:
    def __init__(
        self,
        embedder: Embedder,
        shards: dict[str, Shard],
        params: SearchParams | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.embedder = embedder
        self.shards = shards
        self.params = params or SearchParams()
        self.reranker = reranker

    @classmethod
    def from_index_dir(
        cls, index_dir: Path, embedder: Embedder, reranker: Reranker | None = None
    ) -> LocalRetriever:
        store = ShardStore(index_dir)
        shards = {subject: store.load(subject, embedder.name)[0] for subject in store.subjects()}
        return cls(embedder, shards, reranker=reranker)

    def search(self, query: str, subject: str | None = None, k: int = 5) -> list[Hit]:
        return self.search_many([query], subject, k)[0]

    def search_many(
        self, queries: list[str], subject: str | None = None, k: int = 5
    ) -> list[list[Hit]]:
        """Several queries with one embedder call (what the graph's batching embedder does)."""
        params = self.params
        prepared = [prepare_query(q, params.max_query_chars) for q in queries]
        needs_vectors = candidate_counts(params.mode, params.fusion)[0] > 0
        vectors = self.embedder.embed([p.text for p in prepared]) if needs_vectors else None
        return [
            self._ranked(p, None if vectors is None else vectors[i], subject, k)
            for i, p in enumerate(prepared)
        ]

    def _ranked(
        self, prepared: PreparedQuery, vector: Vectors | None, subject: str | None, k: int
    ) -> list[Hit]:
        params = self.params
        k_dense, k_keyword = candidate_counts(params.mode, params.fusion)
        candidates = [
            self.shards[s].candidates(vector, prepared.keywords, k_dense, k_keyword)
            for s in select_subjects(subject, list(self.shards))
        ]
        ranked = first_stage(candidates, params)
        if params.mode != "rerank" or self.reranker is None:
            return ranked[:k]
        top = ranked[: params.rerank_top_n]
        return apply_rerank(top, self.reranker.score(rerank_pairs(prepared.text, top)), k)
