"""The reranker seam: score (query, passage) pairs jointly, then reorder the top candidates."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from retrieval.shard import Hit


class Reranker(Protocol):
    """Scores each (query, passage) pair; higher is more relevant.

    `score` is synchronous and CPU-bound and returns exactly one float per pair, in order.
    Scores are only comparable within one call's query.
    """

    name: str

    def score(self, pairs: list[tuple[str, str]]) -> list[float]: ...


def passage_for_scoring(hit: Hit, max_chars: int = 400) -> str:
    # Pair scoring cost grows with length; the head of a passage carries its definition.
    return f"{hit.title}: {hit.text[:max_chars]}"


def reorder(hits: list[Hit], scores: list[float]) -> list[Hit]:
    ranked = sorted(zip(hits, scores, strict=True), key=lambda pair: pair[1], reverse=True)
    return [h.rescored(float(s)) for h, s in ranked]


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder loaded from a local directory, offline."""

    def __init__(self, model_dir: Path, device: str = "auto", batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import CrossEncoder

        from retrieval.embedder import pick_device

        self._model = CrossEncoder(str(model_dir), device=pick_device(device))
        self._batch_size = batch_size
        self.name = model_dir.name

    def score(self, pairs: list[tuple[str, str]]) -> list[float]:
        if not pairs:
            return []
        scores = self._model.predict(pairs, batch_size=self._batch_size, show_progress_bar=False)
        return [float(s) for s in scores]
