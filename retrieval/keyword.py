"""Keyword search: BM25 over stemmed tokens, with bm25s (the maintained sparse scorer).

Each shard is its own BM25 index, so its IDF only knows its own passages: in the 137-entry
chemistry shard "atomic" and "number" are in every entry and weigh almost nothing, and its best
match for "atomic number of carbon" scored less than half of english's. So each shard answers
with its term statistics and each hit's score split by term, and hits from several shards are
merged after rescoring with the IDF of their union (`collection_idf`, `rescore`). That costs no
second round trip (a Serve hop is ~10 ms of CPU here); the price is that each shard still picks
its candidates by its own IDF, as a search engine's default query-then-fetch does.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import bm25s
import numpy as np
import numpy.typing as npt
import Stemmer
from bm25s.scoring import _select_idf_scorer

_STEMMER = Stemmer.Stemmer("english")

# BM25 variant of every index built here. Its IDF formula is taken from bm25s rather than
# restated, so a cross-shard IDF is the same function of (df, N) as the one each index holds.
METHOD = "lucene"
_IDF = _select_idf_scorer(METHOD)

# bm25s's numba scorer and top-k selection: on the 149K-passage english shard a query takes
# 0.2-0.3 ms instead of 22 ms with numpy, same scores (benchmarks/retrieval_scale.py). The JIT
# compile costs ~7 s once per process, paid by `load` (a replica's start), not by a query.
BACKEND = "numba" if importlib.util.find_spec("numba") else "numpy"


@dataclass(frozen=True)
class TermStats:
    """One shard's passage count and the document frequency of each query term in it."""

    documents: int
    doc_freqs: dict[str, int]


def collection_idf(stats: Sequence[TermStats]) -> dict[str, float]:
    """Each term's IDF over the union of the shards, as if they were one index."""
    documents = sum(s.documents for s in stats)
    terms = {term for s in stats for term in s.doc_freqs}
    return {t: _IDF(sum(s.doc_freqs.get(t, 0) for s in stats), N=documents) for t in terms}


def rescore(term_scores: dict[str, float], local: TermStats, idf: dict[str, float]) -> float:
    """A passage's BM25 score with each term's IDF replaced by `idf`'s (from
    `collection_idf`): BM25 sums IDF times a term-frequency part over the terms, so each
    term's part is rescaled; length normalisation stays the passage's own shard's."""
    return sum(
        score * idf[term] / float(_IDF(local.doc_freqs[term], N=local.documents))
        for term, score in term_scores.items()
    )


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
        model = bm25s.BM25(method=METHOD, backend=BACKEND)
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

    def query_terms(self, query: str) -> list[str]:
        """The query's stemmed terms that this index holds (the others cannot score)."""
        return [t for t in tokenize([query])[0] if t in self._model.vocab_dict]

    def term_stats(self, terms: list[str]) -> TermStats:
        """Document frequencies of `query_terms` here (tombstoned rows still count until
        compaction drops them, as in any inverted index)."""
        # `size` is every passage indexed, tombstoned or not: the N of this index's IDF.
        return TermStats(self.size, {term: self._doc_freq(term) for term in set(terms)})

    def _doc_freq(self, term: str) -> int:
        # bm25s keeps one sparse column per term, holding one entry per passage that has it.
        indptr = self._model.scores["indptr"]
        term_id = self._model.vocab_dict[term]
        return int(indptr[term_id + 1] - indptr[term_id])

    def search(
        self, terms: list[str], k: int, mask: npt.NDArray[np.float32] | None = None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """(passage numbers, scores), best first, of passages sharing one of `query_terms`;
        `mask` (1 keep, 0 drop, per passage) excludes tombstoned rows."""
        if not terms or self.size == 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        ids, scores = self._model.retrieve(
            [terms], k=min(k, self.size), show_progress=False, weight_mask=mask
        )
        keep = scores[0] > 0
        return ids[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)

    def term_scores(self, terms: list[str], rows: list[int]) -> list[dict[str, float]]:
        """Each row's BM25 score split by query term (the parts `search` summed)."""
        vocab = self._model.vocab_dict
        parts: list[dict[str, float]] = [{} for _ in rows]
        for term in terms if rows else []:
            # A repeated query term adds its part again, as in bm25s's own sum.
            column = self._model.get_scores_from_ids([vocab[term]])[rows].tolist()
            for part, score in zip(parts, column, strict=True):
                if score > 0:
                    part[term] = part.get(term, 0.0) + score
        return parts
