"""Changing a published shard without re-embedding it: upserts and deletes by document id,
compaction, and backup/restore of versions.

An update appends the new documents' passages (embedding only those), tombstones the rows of
documents it replaces or deletes, rebuilds BM25 (seconds), and publishes the result as the
next version of the same epoch. Compaction drops tombstones and re-chooses the index kind.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from retrieval import dense
from retrieval.corpus import Document
from retrieval.embedder import Embedder
from retrieval.errors import RetrievalError
from retrieval.keyword import KeywordIndex
from retrieval.shard import Shard, embed_passages, keyword_text, passages_of
from retrieval.store import Lineage, Manifest, ShardStore, checksums, read_manifest


@dataclass(frozen=True)
class Changes:
    added: list[str]
    updated: list[str]
    deleted: list[str]
    unknown: list[str]  # ids asked to be deleted that the shard does not have

    def as_lineage_changes(self) -> dict[str, list[str]]:
        return {"added": self.added, "updated": self.updated, "deleted": self.deleted}

    @property
    def touched(self) -> set[str]:
        """Documents whose old answers are now wrong: what the response cache must drop."""
        return set(self.updated) | set(self.deleted)


def plan_changes(live: set[str], upserts: Iterable[Document], deletes: set[str]) -> Changes:
    upsert_ids = {d.id for d in upserts}
    return Changes(
        added=sorted(upsert_ids - live),
        updated=sorted(upsert_ids & live),
        deleted=sorted((deletes & live) - upsert_ids),
        unknown=sorted(deletes - live),
    )


def tombstoned(shard: Shard, doc_ids: set[str]) -> np.ndarray:
    hit = np.fromiter((p.doc_id in doc_ids for p in shard.passages), np.bool_, len(shard.passages))
    return np.asarray(shard.deleted | hit)


def updated_shard(
    shard: Shard, upserts: list[Document], deletes: set[str], embedder: Embedder
) -> tuple[Shard, Changes]:
    """The shard with `upserts` added or replaced and `deletes` removed (by tombstone)."""
    changes = plan_changes(shard.document_ids, upserts, deletes)
    new_passages = passages_of(upserts)
    index = faiss.clone_index(shard.dense_index)
    index.add(embed_passages(embedder, new_passages))
    passages = shard.passages + new_passages
    deleted = np.concatenate(
        [tombstoned(shard, changes.touched), np.zeros(len(new_passages), bool)]
    )
    keyword = KeywordIndex.build([keyword_text(p) for p in passages])
    return Shard(shard.subject, passages, index, keyword, deleted), changes


def apply_update(
    store: ShardStore,
    subject: str,
    upserts: list[Document],
    deletes: set[str],
    embedder: Embedder,
) -> tuple[Manifest, Changes]:
    """Publish the next version of `subject` with these changes, in the same epoch."""
    shard, manifest = store.load(subject)
    if manifest.embedding_model != embedder.name:
        raise RetrievalError(
            f"shard {subject!r} was embedded with {manifest.embedding_model}, not {embedder.name}:"
            " rebuild it with `tutor ingest` instead of updating it"
        )
    updated, changes = updated_shard(shard, upserts, deletes, embedder)
    lineage = Lineage(manifest.epoch, manifest.version, changes.as_lineage_changes())
    return store.publish(updated, embedder.name, lineage), changes


def compacted(shard: Shard, params: dense.DenseIndexParams) -> Shard:
    """The same documents without tombstones; exact or HNSW chosen afresh by size."""
    live = np.flatnonzero(~shard.deleted)
    vectors = np.ascontiguousarray(shard.vectors()[live])
    passages = [shard.passages[i] for i in live.tolist()]
    return Shard.build(shard.subject, passages, vectors, params)


def compact(store: ShardStore, subject: str, params: dense.DenseIndexParams) -> Manifest:
    """Publish a compacted copy of `subject` as the next version (same epoch: same answers)."""
    shard, manifest = store.load(subject)
    lineage = Lineage(manifest.epoch, manifest.version, {})
    return store.publish(compacted(shard, params), manifest.embedding_model, lineage)


def backup(store: ShardStore, destination: Path) -> list[Manifest]:
    """Copy every subject's current version to `destination/<subject>/<version>/`."""
    saved = []
    for subject in store.subjects():
        source = store.current_dir(subject)
        target = destination / subject / source.name
        shutil.copytree(source, target)
        manifest = read_manifest(subject, target)
        verify_copy(subject, target, manifest)
        saved.append(manifest)
    return saved


def restore(store: ShardStore, source: Path) -> list[Manifest]:
    """Publish each subject's backed-up version under `source` as its next version."""
    restored = []
    for subject_dir in sorted(p for p in source.iterdir() if p.is_dir()):
        (version_dir,) = sorted(p for p in subject_dir.iterdir() if p.is_dir())[-1:]
        manifest = read_manifest(subject_dir.name, version_dir)
        verify_copy(subject_dir.name, version_dir, manifest)
        restored.append(store.publish_copy(version_dir, manifest))
    return restored


def verify_copy(subject: str, directory: Path, manifest: Manifest) -> None:
    if checksums(directory) != manifest.checksums:
        raise RetrievalError(f"{subject}: {directory} does not match its manifest's checksums")
