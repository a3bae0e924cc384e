"""A small deterministic embedder for unit tests: hashed bag of stems, unit length.

Real code with the `Embedder` contract; it ranks by shared words, which is all a unit test of
the index, fusion or store plumbing needs, and it loads in microseconds.
"""

from __future__ import annotations

import hashlib

import numpy as np

from retrieval.embedder import Vectors
from retrieval.keyword import tokenize


class HashingEmbedder:
    name = "hashing-test-embedder"

    def __init__(self, dimension: int = 512) -> None:
        self.dimension = dimension

    def embed(self, texts: list[str]) -> Vectors:
        out = np.zeros((len(texts), self.dimension), np.float32)
        for row, tokens in enumerate(tokenize(texts)):
            for token in tokens:
                bucket = int(hashlib.md5(token.encode()).hexdigest(), 16) % self.dimension
                out[row, bucket] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)
