"""Keyword search: BM25 over stemmed tokens, with bm25s (the maintained sparse scorer)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import bm25s
import numpy as np
import numpy.typing as npt
import Stemmer

_STEMMER = Stemmer.Stemmer("english")

# bm25s's numba scorer and top-k selection: on the 149K-passage english shard a query takes
# 0.2-0.3 ms instead of 22 ms with numpy, same scores (benchmarks/retrieval_scale.py). The JIT
# compile costs ~7 s once per process, paid by `load` (a replica's start), not by a query.
BACKEND = "numba" if importlib.util.find_spec("numba") else "numpy"


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, English-stopword-free, Snowball-stemmed tokens."""
    tokens: list[list[str]] = bm25s.tokenize(
        texts, stopwords="en", stemmer=_STEMMER.stemWords, return_ids=False, show_progress=False
    )
    return tokens


class KeywordIndex:
    """BM25 over passages; passage numbers are the row numbers given at build time."""

    def __init__(self, model: bm25s.BM25, size: int) -> None:
        self._model = model
        self.size = size

    @classmethod
    def build(cls, passages: list[str]) -> KeywordIndex:
        model = bm25s.BM25(backend=BACKEND)
        model.index(tokenize(passages), show_progress=False)
        return cls(model, len(passages))

    @classmethod
    def load(cls, directory: Path, size: int) -> KeywordIndex:
        model = bm25s.BM25.load(str(directory), show_progress=False, backend=BACKEND)
        index = cls(model, size)
        index.warm_up()
        return index

    def warm_up(self) -> None:
        """Compile the scorer now (once per process) with a query on the first indexed term."""
        term = next(iter(self._model.vocab_dict), None)
        if term is not None and self.size > 0:
            self._model.retrieve([[term]], k=1, show_progress=False)

    def save(self, directory: Path) -> None:
        self._model.save(str(directory), show_progress=False)

    def search(
        self, query: str, k: int, mask: npt.NDArray[np.float32] | None = None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """(passage numbers, scores), best first, only passages sharing a term with the query;
        `mask` (1 keep, 0 drop, per passage) excludes tombstoned rows."""
        tokens = tokenize([query])
        if not tokens[0] or self.size == 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        ids, scores = self._model.retrieve(
            tokens, k=min(k, self.size), show_progress=False, weight_mask=mask
        )
        keep = scores[0] > 0
        return ids[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)
