"""FAISS dense indexes: exact below a size threshold, HNSW above it, on a GPU when one is present.

faiss-cpu and faiss-gpu install the same `faiss` module; which one is installed (the `cpu` or
`gpu` extra) and `faiss.get_num_gpus()` decide the device at run time, on one code path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import faiss
import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

IndexKind = Literal["flat", "hnsw"]


class DenseIndexParams(BaseModel):
    """How a shard's dense index is built and searched (`user_config`-tunable at search time)."""

    model_config = ConfigDict(extra="forbid")

    hnsw_threshold: int = Field(
        20_000, ge=0, description="Passage count from which HNSW replaces exact search."
    )
    hnsw_m: int = Field(32, ge=4, le=128, description="HNSW graph degree (build time).")
    hnsw_ef_construction: int = Field(80, ge=8, description="HNSW build beam width.")
    hnsw_ef_search: int = Field(64, ge=8, description="HNSW search beam width (recall vs speed).")
    use_gpu: Literal["auto", "never"] = Field(
        "auto", description="auto: move exact indexes to the GPU when faiss sees one."
    )


def choose_kind(passages: int, params: DenseIndexParams) -> IndexKind:
    return "hnsw" if passages >= params.hnsw_threshold else "flat"


def build_index(vectors: npt.NDArray[np.float32], params: DenseIndexParams) -> Any:
    """An inner-product index over unit vectors, ids = row numbers."""
    dimension = vectors.shape[1]
    index: Any
    if choose_kind(len(vectors), params) == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = params.hnsw_ef_construction
        index.hnsw.efSearch = params.hnsw_ef_search
    else:
        index = faiss.IndexFlatIP(dimension)
    index.add(vectors)
    return index


def index_kind(index: Any) -> IndexKind:
    return "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"


def set_ef_search(index: Any, ef_search: int) -> None:
    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = ef_search


def should_use_gpu(
    index: Any, params: DenseIndexParams, gpu_count: Callable[[], int] = faiss.get_num_gpus
) -> bool:
    """Exact indexes go to the GPU when one is visible; faiss has no GPU HNSW, so HNSW stays."""
    return params.use_gpu == "auto" and index_kind(index) == "flat" and gpu_count() > 0


def to_device(index: Any, params: DenseIndexParams) -> Any:
    if not should_use_gpu(index, params):
        return index
    resources = faiss.StandardGpuResources()  # only in the faiss-gpu build
    return faiss.index_cpu_to_gpu(resources, 0, index)


def search(index: Any, queries: npt.NDArray[np.float32], k: int) -> tuple[Any, Any]:
    """(scores, ids) for each query row; ids of -1 mean fewer than k results exist."""
    scores, ids = index.search(queries, min(k, max(index.ntotal, 1)))
    return scores, ids
