"""Graph node: one subject's retriever shard (FAISS dense + BM25 keyword candidates)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import faiss
from pydantic import BaseModel, ConfigDict, Field

from cluster.observability.metrics import TutorMetrics
from cluster.settings import get_settings
from deployments.logs import route_app_logs
from deployments.ray_metrics import RayExporter
from retrieval.dense import DenseIndexParams
from retrieval.embedder import Vectors
from retrieval.serving import ShardHolder
from retrieval.shard import ShardCandidates


class ShardConfig(BaseModel):
    """Live-tunable settings of a shard (`user_config`)."""

    model_config = ConfigDict(extra="forbid")

    ef_search: int = Field(64, ge=8, le=4096, description="HNSW beam width at search time.")
    reload_interval_s: float = Field(
        10.0, gt=0, description="How often to look for a newly published version."
    )


class RetrieverShardServer:
    """Holds one shard. A shard that fails to load keeps its replica up and says why in
    `health()`, so one damaged subject never takes the others (or the graph) down; a newly
    published version is picked up without a restart."""

    def __init__(self, subject: str, index_dir: str, embedding_model: str | None = None) -> None:
        route_app_logs(get_settings().effective_log_level)
        # Two OpenMP threads were slower than one per query on 2-core machines.
        faiss.omp_set_num_threads(1)
        self._holder = ShardHolder(subject, Path(index_dir), DenseIndexParams(), embedding_model)
        self._config = ShardConfig()
        self._watcher: asyncio.Task[None] | None = None
        self._metrics = TutorMetrics(RayExporter())
        self._metrics.shard_state(subject, self._holder.health())

    def reconfigure(self, config: dict[str, Any]) -> None:
        self._config = ShardConfig.model_validate(config)
        self._holder.set_ef_search(self._config.ef_search)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._config.reload_interval_s)
            if await asyncio.to_thread(self._holder.reload_if_changed):
                self._holder.set_ef_search(self._config.ef_search)
            self._metrics.shard_state(self._holder.subject, self._holder.health())

    async def candidates(
        self, query_vector: Vectors | None, keywords: str, k_dense: int, k_keyword: int
    ) -> ShardCandidates:
        if self._watcher is None:  # started on the replica's event loop, on first use
            self._watcher = asyncio.get_running_loop().create_task(self._watch())
        return self._holder.candidates(query_vector, keywords, k_dense, k_keyword)

    def health(self) -> dict[str, Any]:
        return self._holder.health()

    async def __del__(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
