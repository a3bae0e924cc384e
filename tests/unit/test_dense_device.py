"""GPU placement is decided at run time; the decision logic is tested here, on the CPU."""

import faiss
import numpy as np

from retrieval.dense import DenseIndexParams, build_index, should_use_gpu

VECTORS = np.eye(8, dtype=np.float32)


def test_exact_indexes_go_to_a_visible_gpu():
    index = build_index(VECTORS, DenseIndexParams())
    assert should_use_gpu(index, DenseIndexParams(), gpu_count=lambda: 1)


def test_no_gpu_keeps_the_index_on_the_cpu():
    index = build_index(VECTORS, DenseIndexParams())
    assert not should_use_gpu(index, DenseIndexParams(), gpu_count=lambda: 0)


def test_hnsw_stays_on_the_cpu_because_faiss_has_no_gpu_hnsw():
    index = build_index(VECTORS, DenseIndexParams(hnsw_threshold=1))
    assert isinstance(index, faiss.IndexHNSW)
    assert not should_use_gpu(index, DenseIndexParams(), gpu_count=lambda: 4)


def test_operators_can_pin_the_cpu():
    index = build_index(VECTORS, DenseIndexParams())
    assert not should_use_gpu(index, DenseIndexParams(use_gpu="never"), gpu_count=lambda: 1)
