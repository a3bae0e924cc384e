"""One subject's searchable shard: its passages, a FAISS dense index and a BM25 keyword index."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval import dense
from retrieval.chunking import split_passages
from retrieval.corpus import Document
from retrieval.embedder import Embedder, Vectors
from retrieval.exact import ExactLookup
from retrieval.keyword import KeywordIndex, TermStats
from retrieval.spelling import Speller
from retrieval.structure import Structure, first_passages, learn


@dataclass(frozen=True)
class Passage:
    doc_id: str
    subject: str
    title: str
    text: str


@dataclass(frozen=True)
class Hit:
    """A ranked document: its best passage and the score of the stage that ranked it."""

    doc_id: str
    subject: str
    title: str
    text: str
    score: float
    # What the entry states, learned at ingest (`retrieval.structure`): (label, value) pairs
    # and other names. The answer check reads them; they cross handles with the hit.
    facts: tuple[tuple[str, str], ...] = ()
    aliases: tuple[str, ...] = ()

    def rescored(self, score: float) -> Hit:
        return replace(self, score=score)


@dataclass(frozen=True)
class ShardCandidates:
    """A shard's answer to one query: dense and keyword rankings, each best first, and the
    index version that produced them (what an answer, and the response cache, can cite).

    `keyword_terms[i]` is `keyword[i]`'s BM25 score split by query term and `term_stats` this
    shard's frequencies of those terms: what a merge across shards rescales by.
    """

    subject: str
    dense: list[Hit]
    keyword: list[Hit]
    version: str = ""
    epoch: str = ""
    keyword_terms: list[dict[str, float]] = field(default_factory=list)
    term_stats: TermStats = field(default_factory=lambda: TermStats(0, {}))
    # Entries the query names or gives a field value of (`retrieval.exact`), best first.
    exact: list[Hit] = field(default_factory=list)


def passages_of(documents: Iterable[Document], max_chars: int = 1000) -> list[Passage]:
    return [
        Passage(doc.id, doc.subject, doc.title, chunk)
        for doc in documents
        for chunk in split_passages(doc.text, max_chars)
    ]


def embedding_text(passage: Passage) -> str:
    # The title carries most of the meaning in dictionary-style entries.
    return f"{passage.title}: {passage.text}"


def keyword_text(passage: Passage) -> str:
    # The title twice: a field boost, so that "what is a noun" ranks the entry *noun* above
    # entries that merely use the word.
    return f"{passage.title} {passage.title} {passage.text}"


def embed_passages(
    embedder: Embedder,
    passages: list[Passage],
    batch_size: int = 256,
    progress: Callable[[int], object] | None = None,
) -> Vectors:
    blocks = []
    for start in range(0, len(passages), batch_size):
        batch = passages[start : start + batch_size]
        blocks.append(embedder.embed([embedding_text(p) for p in batch]))
        if progress is not None:
            progress(len(batch))
    if not blocks:
        return np.empty((0, embedder.dimension), np.float32)
    return np.vstack(blocks)


class Shard:
    """Searchable state of one subject, immutable once built.

    Rows (passages) are never renumbered within a lineage of versions: an update appends new
    rows and marks the rows of changed or deleted documents in `deleted` (tombstones), which
    searches skip; compaction (scripts/optimize_vector_store.py) rebuilds without them.
    """

    def __init__(
        self,
        subject: str,
        passages: list[Passage],
        dense_index: Any,
        keyword: KeywordIndex,
        deleted: npt.NDArray[np.bool_] | None = None,
        structure: Structure | None = None,
    ) -> None:
        self.subject = subject
        self.passages = passages
        self.dense_index = dense_index
        self.keyword = keyword
        self.deleted = deleted if deleted is not None else np.zeros(len(passages), np.bool_)
        self.version = ""  # the published version (v000003) and its epoch, once loaded
        self.epoch = ""
        self._filter = dense.exclusion(np.flatnonzero(self.deleted))
        self._keyword_mask = (~self.deleted).astype(np.float32) if self.tombstones else None
        self._speller: Speller | None = None
        self._structure = structure
        self._exact: ExactLookup | None = None

    @property
    def structure(self) -> Structure:
        """What the entries state, learned from their first passages (stored with a version
        as structure.json; a version written before it existed learns it on first use)."""
        if self._structure is None:
            live = zip(self.passages, self.deleted, strict=True)
            firsts = first_passages((p.doc_id, p.title, p.text) for p, gone in live if not gone)
            self._structure = learn(firsts)
        return self._structure

    @property
    def exact(self) -> ExactLookup:
        if self._exact is None:
            firsts: dict[str, tuple[int, str, str]] = {}
            for row, (p, gone) in enumerate(zip(self.passages, self.deleted, strict=True)):
                if not gone:
                    firsts.setdefault(p.doc_id, (row, p.doc_id, p.title))
            self._exact = ExactLookup(list(firsts.values()), self.structure)
        return self._exact

    @property
    def speller(self) -> Speller:
        """The shard's words, counted on first use (seconds on 200K passages, so a server
        builds it while loading: `retrieval.serving`)."""
        if self._speller is None:
            # Only live passages: a typo must not become a word that only deleted entries had.
            live = (p for p, gone in zip(self.passages, self.deleted, strict=True) if not gone)
            texts = (keyword_text(p) for p in live)
            self._speller = Speller.from_texts(texts, lambda w: bool(self.keyword.query_terms(w)))
        return self._speller

    @property
    def tombstones(self) -> int:
        return int(self.deleted.sum())

    @classmethod
    def build(
        cls,
        subject: str,
        passages: list[Passage],
        vectors: Vectors,
        params: dense.DenseIndexParams,
    ) -> Shard:
        index = dense.build_index(vectors, params)
        keyword = KeywordIndex.build([keyword_text(p) for p in passages])
        return cls(subject, passages, index, keyword)

    def vectors(self) -> Vectors:
        """The stored passage vectors (both index kinds keep them), for rebuilding a version."""
        return np.asarray(self.dense_index.reconstruct_n(0, self.dense_index.ntotal), np.float32)

    @property
    def document_ids(self) -> set[str]:
        """The documents this version serves (tombstoned rows excluded)."""
        return {p.doc_id for p, gone in zip(self.passages, self.deleted, strict=True) if not gone}

    def candidates(
        self, query_vector: Vectors | None, keyword_query: str, k_dense: int, k_keyword: int
    ) -> ShardCandidates:
        """Top documents by each signal; a count of 0 (or no vector) skips that search.

        Passages are over-fetched 3x so that several passages of one document still leave
        k distinct documents.
        """
        found = ShardCandidates(self.subject, [], [], self.version, self.epoch)
        if k_dense > 0 and query_vector is not None:
            query = query_vector.reshape(1, -1)
            scores, rows = dense.search(self.dense_index, query, 3 * k_dense, self._filter)
            best_dense = self._documents(rows[0], scores[0], k_dense)
            found = replace(found, dense=list(best_dense.values()))
        if k_keyword > 0:
            terms = self.keyword.query_terms(self.speller.correct(keyword_query))
            rows_kw, scores_kw = self.keyword.search(terms, 3 * k_keyword, self._keyword_mask)
            best = self._documents(rows_kw, scores_kw, k_keyword)
            found = replace(
                found,
                keyword=list(best.values()),
                keyword_terms=self.keyword.term_scores(terms, list(best)),
                term_stats=self.keyword.term_stats(terms),
            )
        matches = self.exact.find(keyword_query)
        rows = np.asarray([m.row for m in matches], np.int64)
        scores = np.asarray([m.score for m in matches], np.float32)
        return replace(found, exact=list(self._documents(rows, scores, len(matches)).values()))

    def _documents(
        self, rows: npt.NDArray[np.int64], scores: npt.NDArray[np.float32], k: int
    ) -> dict[int, Hit]:
        """Passage rows to document hits, keyed by the row that ranked each: each document
        once, at its best passage's score."""
        hits: dict[int, Hit] = {}
        seen: set[str] = set()
        for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
            if row < 0:
                continue
            passage = self.passages[row]
            if passage.doc_id not in seen:
                seen.add(passage.doc_id)
                hits[row] = self._hit(passage, float(score))
            if len(hits) == k:
                break
        return hits

    def _hit(self, passage: Passage, score: float) -> Hit:
        facts = self.structure.facts(passage.doc_id)
        return Hit(
            passage.doc_id,
            self.subject,
            passage.title,
            passage.text,
            score,
            tuple(facts.fields.items()),
            tuple(facts.aliases),
        )
