"""The whole search path in one process: for `tutor search`, evaluation and benchmark baselines."""

from __future__ import annotations

from pathlib import Path

from retrieval.embedder import Embedder
from retrieval.pipeline import (
    SearchParams,
    apply_rerank,
    candidate_counts,
    first_stage,
    rerank_pairs,
    select_subjects,
)
from retrieval.preprocess import prepare_query
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
        shards = {subject: store.load(subject)[0] for subject in store.subjects()}
        return cls(embedder, shards, reranker=reranker)

    def search(self, query: str, subject: str | None = None, k: int = 5) -> list[Hit]:
        params = self.params
        prepared = prepare_query(query, params.max_query_chars)
        k_dense, k_keyword = candidate_counts(params.mode, params.fusion)
        vector = self.embedder.embed([prepared.text])[0] if k_dense else None
        candidates = [
            self.shards[s].candidates(vector, prepared.keywords, k_dense, k_keyword)
            for s in select_subjects(subject, list(self.shards))
        ]
        ranked = first_stage(candidates, params)
        if params.mode != "rerank" or self.reranker is None:
            return ranked[:k]
        top = ranked[: params.rerank_top_n]
        return apply_rerank(top, self.reranker.score(rerank_pairs(prepared.text, top)), k)
