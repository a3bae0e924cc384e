"""Graph node: one subject's retriever shard (FAISS dense + BM25 keyword candidates)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import faiss
from pydantic import BaseModel, ConfigDict, Field

from retrieval import dense
from retrieval.embedder import Vectors
from retrieval.errors import ShardLoadError
from retrieval.shard import Shard, ShardCandidates
from retrieval.store import Manifest, ShardStore

log = logging.getLogger(__name__)


class ShardConfig(BaseModel):
    """Live-tunable search settings of a shard (`user_config`)."""

    model_config = ConfigDict(extra="forbid")

    ef_search: int = Field(64, ge=8, le=4096, description="HNSW beam width at search time.")


class RetrieverShardServer:
    """Holds one shard. A shard that fails to load keeps its replica up and says why in
    `health()`, so one damaged subject never takes the others (or the graph) down."""

    def __init__(self, subject: str, index_dir: str) -> None:
        # Two OpenMP threads were slower than one per query on 2-core machines.
        faiss.omp_set_num_threads(1)
        self.subject = subject
        self._shard: Shard | None = None
        self._manifest: Manifest | None = None
        self._error: str | None = None
        try:
            self._shard, self._manifest = ShardStore(Path(index_dir)).load(subject)
            self._shard.dense_index = dense.to_device(
                self._shard.dense_index, dense.DenseIndexParams()
            )
        except ShardLoadError as exc:
            log.error("%s", exc)
            self._error = str(exc)

    def reconfigure(self, config: dict[str, Any]) -> None:
        settings = ShardConfig.model_validate(config)
        if self._shard is not None:
            dense.set_ef_search(self._shard.dense_index, settings.ef_search)

    def candidates(
        self, query_vector: Vectors | None, keywords: str, k_dense: int, k_keyword: int
    ) -> ShardCandidates:
        if self._shard is None:
            raise ShardLoadError(self.subject, self._error or "not loaded")
        return self._shard.candidates(query_vector, keywords, k_dense, k_keyword)

    def health(self) -> dict[str, Any]:
        if self._manifest is None:
            return {"status": "unhealthy", "subject": self.subject, "error": self._error}
        return {
            "status": "healthy",
            "subject": self.subject,
            "documents": self._manifest.documents,
            "passages": self._manifest.passages,
            "version": self._manifest.version_name,
            "index_kind": self._manifest.index_kind,
            "embedding_model": self._manifest.embedding_model,
        }
