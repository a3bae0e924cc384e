"""Graph node: the query embedder, batching concurrent queries into one forward pass."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
from ray import serve

from retrieval.embedder import Embedder, SentenceTransformerEmbedder, Vectors


class EmbedderServer:
    def __init__(self, model_path: str | None = None, embedder: Embedder | None = None) -> None:
        self._embedder = embedder or SentenceTransformerEmbedder(
            Path(model_path) if model_path else None
        )

    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.002)
    async def embed(self, texts: list[str]) -> list[Vectors]:
        # Off the event loop, so requests keep arriving (and batching) while this one computes.
        vectors = await asyncio.to_thread(self._embedder.embed, texts)
        return list(np.asarray(vectors))

    def health(self) -> dict[str, object]:
        return {"status": "healthy", "model": self._embedder.name}
