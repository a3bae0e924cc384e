"""Updating published shards by document id, compaction, and backup/restore."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.corpus import Document
from retrieval.dense import DenseIndexParams
from retrieval.errors import RetrievalError
from retrieval.ingest import build_shard
from retrieval.lifecycle import apply_update, backup, compact, restore
from retrieval.store import ShardStore
from tests.fakes.hashing_embedder import HashingEmbedder


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.texts = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts += len(texts)
        return super().embed(texts)


@pytest.fixture
def store(tmp_path: Path, chemistry_docs) -> ShardStore:
    docs = [Document.model_validate(d) for d in chemistry_docs]
    store = ShardStore(tmp_path / "indexes")
    shard = build_shard("chemistry", docs, HashingEmbedder(), DenseIndexParams(), False)
    store.publish(shard, HashingEmbedder.name)
    return store


def doc(doc_id: str, title: str, text: str) -> Document:
    return Document(id=doc_id, subject="chemistry", title=title, text=text)


def top(store: ShardStore, query: str, k: int = 3) -> list[str]:
    shard, _ = store.load("chemistry")
    vector = HashingEmbedder().embed([query])[0]
    found = shard.candidates(vector, query, k, k)
    return [h.doc_id for h in found.dense] + ["|"] + [h.doc_id for h in found.keyword]


def test_an_added_document_is_found_and_only_it_is_embedded(store: ShardStore):
    embedder = CountingEmbedder()
    new = doc("chemistry:unobtainium", "unobtainium", "Fictional metal mined on Pandora.")
    manifest, changes = apply_update(store, "chemistry", [new], set(), embedder)
    assert embedder.texts == 1
    assert changes.added == ["chemistry:unobtainium"] and manifest.parent == 1
    assert manifest.documents == 138 and manifest.version == 2
    assert top(store, "unobtainium Pandora")[0] == "chemistry:unobtainium"


def test_an_update_replaces_the_old_text_everywhere(store: ShardStore):
    new = doc("chemistry:gold", "gold", "Zorblax: a made-up description of gold for this test.")
    _, changes = apply_update(store, "chemistry", [new], set(), HashingEmbedder())
    shard, manifest = store.load("chemistry")
    texts = [
        p.text
        for p, gone in zip(shard.passages, shard.deleted, strict=True)
        if p.doc_id == "chemistry:gold" and not gone
    ]
    assert changes.updated == ["chemistry:gold"] and texts == [new.text]
    keyword_hits = top(store, "zorblax")[4:]
    assert manifest.tombstones >= 1 and keyword_hits[0] == "chemistry:gold"


def test_a_deleted_document_is_gone_from_both_searches(store: ShardStore):
    before = top(store, "gold")
    assert "chemistry:gold" in before
    _, changes = apply_update(
        store, "chemistry", [], {"chemistry:gold", "chemistry:nope"}, HashingEmbedder()
    )
    assert changes.deleted == ["chemistry:gold"] and changes.unknown == ["chemistry:nope"]
    assert "chemistry:gold" not in top(store, "gold", k=10)
    assert "chemistry:gold" not in store.load("chemistry")[0].document_ids
    assert store.changes("chemistry")["deleted"] == ["chemistry:gold"]


def test_updates_keep_the_epoch_and_a_full_build_starts_a_new_one(
    store: ShardStore, chemistry_docs
):
    first = store.current_manifest("chemistry").epoch
    apply_update(store, "chemistry", [], {"chemistry:gold"}, HashingEmbedder())
    assert store.current_manifest("chemistry").epoch == first
    docs = [Document.model_validate(d) for d in chemistry_docs]
    store.publish(
        build_shard("chemistry", docs, HashingEmbedder(), DenseIndexParams(), False),
        HashingEmbedder.name,
    )
    assert store.current_manifest("chemistry").epoch != first


def test_an_update_with_another_embedder_is_refused(store: ShardStore):
    class Other(HashingEmbedder):
        name = "another-model"

    with pytest.raises(RetrievalError, match="rebuild it"):
        apply_update(store, "chemistry", [], {"chemistry:gold"}, Other())


def test_compaction_drops_tombstones_and_keeps_the_answers(store: ShardStore):
    apply_update(store, "chemistry", [], {"chemistry:gold", "chemistry:silver"}, HashingEmbedder())
    before = top(store, "atomic number of carbon")
    manifest = compact(store, "chemistry", DenseIndexParams())
    assert manifest.tombstones == 0 and manifest.documents == 135
    assert top(store, "atomic number of carbon") == before


def test_backup_and_restore_round_trip(store: ShardStore, tmp_path: Path):
    saved = backup(store, tmp_path / "backup")
    apply_update(store, "chemistry", [], {"chemistry:gold"}, HashingEmbedder())
    (restored,) = restore(store, tmp_path / "backup")
    assert restored.version == 3 and restored.checksums == saved[0].checksums
    assert "chemistry:gold" in store.load("chemistry")[0].document_ids


def test_a_damaged_backup_is_refused(store: ShardStore, tmp_path: Path):
    (saved,) = backup(store, tmp_path / "backup")
    damaged = tmp_path / "backup" / "chemistry" / saved.version_name / "passages.jsonl"
    damaged.write_text(damaged.read_text()[:-50])
    with pytest.raises(RetrievalError, match="checksums"):
        restore(store, tmp_path / "backup")
    assert store.current_manifest("chemistry").version == 1
