"""Graph node: the cross-encoder reranker, batching pairs from concurrent queries."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ray import serve

from retrieval.reranker import CrossEncoderReranker, Reranker


class RerankerServer:
    def __init__(self, model_dir: str, reranker: Reranker | None = None) -> None:
        self._reranker = reranker or CrossEncoderReranker(Path(model_dir))

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.002)
    async def score(self, requests: list[list[tuple[str, str]]]) -> list[list[float]]:
        flat = [pair for pairs in requests for pair in pairs]
        scores = await asyncio.to_thread(self._reranker.score, flat)
        out, start = [], 0
        for pairs in requests:
            out.append(scores[start : start + len(pairs)])
            start += len(pairs)
        return out

    def health(self) -> dict[str, object]:
        return {"status": "healthy", "model": self._reranker.name}
