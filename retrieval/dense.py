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


def exclusion(rows: npt.NDArray[np.int64]) -> Any:
    """Search parameters that skip `rows` (tombstones), or None when there are none.

    faiss applies the selector inside the search, so k live results still come back."""
    if len(rows) == 0:
        return None
    selector = faiss.IDSelectorNot(faiss.IDSelectorBatch(rows.astype(np.int64)))
    return _Exclusion(selector)


class _Exclusion:
    """Keeps the selector alive as long as the parameters that point at it."""

    def __init__(self, selector: Any) -> None:
        self.selector = selector

    def params_for(self, index: Any) -> Any:
        # faiss's bundled type stubs lag its API: both classes take these keywords.
        if isinstance(index, faiss.IndexHNSW):
            return faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
                sel=self.selector, efSearch=index.hnsw.efSearch
            )
        return faiss.SearchParameters(sel=self.selector)  # type: ignore[call-arg]


def search(
    index: Any, queries: npt.NDArray[np.float32], k: int, exclude: Any = None
) -> tuple[Any, Any]:
    """(scores, ids) for each query row; ids of -1 mean fewer than k results exist."""
    k = min(k, max(index.ntotal, 1))
    if exclude is None:
        scores, ids = index.search(queries, k)
    else:
        scores, ids = index.search(queries, k, params=exclude.params_for(index))
    return scores, ids


def recall_at(index: Any, exact: Any, queries: npt.NDArray[np.float32], k: int) -> float:
    """Share of the exact top-k that `index` also returns."""
    _, truth = exact.search(queries, k)
    _, found = index.search(queries, k)
    hits = sum(len(set(t) & set(f)) for t, f in zip(truth.tolist(), found.tolist(), strict=True))
    return float(hits / truth.size)


def tune_ef_search(
    index: Any, vectors: npt.NDArray[np.float32], target: float, sample: int = 200, k: int = 10
) -> tuple[int, float]:
    """The smallest efSearch whose recall@k against exact search reaches `target` (measured
    with stored vectors as queries), and that recall; (0, 1.0) for an exact index."""
    if not isinstance(index, faiss.IndexHNSW):
        return 0, 1.0
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    rows = np.random.default_rng(0).choice(len(vectors), min(sample, len(vectors)), replace=False)
    queries = np.ascontiguousarray(vectors[rows])
    recall = 0.0
    for ef in (16, 32, 64, 128, 256, 512):
        index.hnsw.efSearch = ef
        recall = recall_at(index, exact, queries, k)
        if recall >= target:
            return ef, recall
    return 512, recall
