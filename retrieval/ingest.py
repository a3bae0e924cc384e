"""Building shards from curriculum files: read, validate, chunk, embed, index, publish."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tqdm import tqdm

from retrieval.corpus import CorpusReport, Document, read_documents
from retrieval.dense import DenseIndexParams
from retrieval.embedder import Embedder
from retrieval.errors import RetrievalError
from retrieval.shard import Shard, embed_passages, passages_of
from retrieval.store import Manifest, ShardStore

OnError = Literal["skip", "abort"]


class IngestAborted(RetrievalError):
    """Bad lines were found and the caller asked for all-or-nothing: nothing was published."""

    def __init__(self, report: CorpusReport) -> None:
        first = "; ".join(str(e) for e in report.errors[:5])
        super().__init__(f"{len(report.errors)} bad line(s), nothing ingested: {first}")
        self.report = report


@dataclass
class IngestResult:
    report: CorpusReport
    manifests: list[Manifest]


def group_by_subject(documents: Iterable[Document]) -> dict[str, list[Document]]:
    groups: dict[str, list[Document]] = defaultdict(list)
    for doc in documents:
        groups[doc.subject].append(doc)
    return dict(groups)


def build_shard(
    subject: str,
    documents: list[Document],
    embedder: Embedder,
    params: DenseIndexParams,
    show_progress: bool = True,
) -> Shard:
    passages = passages_of(documents)
    with tqdm(
        total=len(passages), desc=f"embed {subject}", unit="psg", disable=not show_progress
    ) as bar:
        vectors = embed_passages(embedder, passages, progress=bar.update)
    return Shard.build(subject, passages, vectors, params)


def ingest(
    paths: list[Path],
    store: ShardStore,
    embedder: Embedder,
    subject: str | None = None,
    on_error: OnError = "skip",
    params: DenseIndexParams | None = None,
    show_progress: bool = True,
) -> IngestResult:
    """Publish one new shard version per subject found in `paths` (replacing its content)."""
    report = CorpusReport()
    groups = group_by_subject(read_documents(paths, report, subject))
    if report.errors and on_error == "abort":
        raise IngestAborted(report)
    manifests = [
        store.publish(
            build_shard(name, docs, embedder, params or DenseIndexParams(), show_progress),
            embedder.name,
        )
        for name, docs in sorted(groups.items())
    ]
    return IngestResult(report, manifests)
