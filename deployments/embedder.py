"""Graph node: the query embedder, batching concurrent queries into one forward pass."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from ray import serve

from retrieval.embedder import Embedder, SentenceTransformerEmbedder, Vectors


class EmbedderConfig(BaseModel):
    """Live-tunable batching (`user_config`): how long a query waits for others to share its
    forward pass. On a CPU one query costs about as much as four together (the weights are
    read once per pass), so a wider window trades a little latency for CPU under load."""

    model_config = ConfigDict(extra="forbid")

    max_batch_size: int = Field(32, ge=1, le=512)
    batch_wait_timeout_s: float = Field(0.002, ge=0, le=1.0)


DEFAULT_BATCHING = EmbedderConfig()


class EmbedderServer:
    def __init__(self, model_path: str | None = None, embedder: Embedder | None = None) -> None:
        self._embedder = embedder or SentenceTransformerEmbedder(
            Path(model_path) if model_path else None
        )

    def reconfigure(self, config: dict[str, Any]) -> None:
        batching = EmbedderConfig.model_validate(config)
        self.embed.set_max_batch_size(batching.max_batch_size)  # type: ignore[attr-defined]
        self.embed.set_batch_wait_timeout_s(batching.batch_wait_timeout_s)  # type: ignore[attr-defined]

    @serve.batch(
        max_batch_size=DEFAULT_BATCHING.max_batch_size,
        batch_wait_timeout_s=DEFAULT_BATCHING.batch_wait_timeout_s,
    )
    async def embed(self, texts: list[str]) -> list[Vectors]:
        # Off the event loop, so requests keep arriving (and batching) while this one computes.
        vectors = await asyncio.to_thread(self._embedder.embed, texts)
        return list(np.asarray(vectors))

    def health(self) -> dict[str, object]:
        return {"status": "healthy", "model": self._embedder.name}
