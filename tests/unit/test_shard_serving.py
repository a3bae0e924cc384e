"""A serving shard: picks up new versions, refuses damaged ones, and says so in health."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.corpus import Document
from retrieval.dense import DenseIndexParams
from retrieval.embedder import embedder_name
from retrieval.errors import ShardLoadError
from retrieval.ingest import build_shard
from retrieval.lifecycle import apply_update
from retrieval.local import LocalRetriever
from retrieval.serving import ShardHolder
from retrieval.store import ShardStore
from tests.fakes.hashing_embedder import HashingEmbedder

EMBEDDER = HashingEmbedder()


@pytest.fixture
def store(tmp_path: Path, chemistry_docs) -> ShardStore:
    store = ShardStore(tmp_path)
    docs = [Document.model_validate(d) for d in chemistry_docs]
    store.publish(
        build_shard("chemistry", docs, EMBEDDER, DenseIndexParams(), False), EMBEDDER.name
    )
    return store


def search(holder: ShardHolder, text: str) -> list[str]:
    return [h.doc_id for h in holder.candidates(None, text, 0, 5).keyword]


def test_a_newly_published_version_is_picked_up(store: ShardStore):
    holder = ShardHolder("chemistry", store.root, DenseIndexParams())
    assert holder.version == "v000001" and not holder.reload_if_changed()
    apply_update(store, "chemistry", [], {"chemistry:gold"}, EMBEDDER)
    assert holder.reload_if_changed() and holder.version == "v000002"
    assert "chemistry:gold" not in search(holder, "gold")


def test_a_damaged_new_version_is_refused_and_the_old_one_keeps_serving(store: ShardStore):
    holder = ShardHolder("chemistry", store.root, DenseIndexParams())
    manifest, _ = apply_update(store, "chemistry", [], {"chemistry:gold"}, EMBEDDER)
    damaged = store.root / "chemistry" / "versions" / manifest.version_name / "dense.faiss"
    damaged.write_bytes(b"not an index")
    assert not holder.reload_if_changed()
    assert holder.version == "v000001" and "chemistry:gold" in search(holder, "gold")
    health = holder.health()
    assert health["status"] == "healthy" and "corrupt" in health["refused_update"]


def test_a_missing_shard_is_unhealthy_and_refuses_searches(tmp_path: Path):
    holder = ShardHolder("history", tmp_path, DenseIndexParams())
    assert holder.health()["status"] == "unhealthy"
    with pytest.raises(ShardLoadError, match="no published version"):
        search(holder, "anything")


def test_a_shard_embedded_by_another_model_is_refused_and_says_by_which(store: ShardStore):
    holder = ShardHolder("chemistry", store.root, DenseIndexParams(), "embedder-20261124-tuned")
    health = holder.health()
    assert health["status"] == "unhealthy"
    assert EMBEDDER.name in health["error"] and "embedder-20261124-tuned" in health["error"]
    with pytest.raises(ShardLoadError, match="re-ingest") as refused:
        search(holder, "gold")
    assert str(refused.value).count("cannot be loaded") == 1  # said once, not wrapped twice
    matching = ShardHolder("chemistry", store.root, DenseIndexParams(), EMBEDDER.name)
    assert matching.health()["status"] == "healthy" and "chemistry:gold" in search(matching, "gold")


def test_an_embedder_is_named_by_its_model_directory():
    # The name a manifest records at ingest and a served shard is checked against.
    assert embedder_name(None) == "all-MiniLM-L6-v2"
    assert embedder_name(Path("/srv/models/embedder-20261124-ab12")) == "embedder-20261124-ab12"


def test_a_local_search_refuses_an_index_embedded_by_another_model(store: ShardStore):
    class OtherEmbedder(HashingEmbedder):
        name = "embedder-20261124-tuned"

    with pytest.raises(ShardLoadError, match="embedded with hashing-test-embedder"):
        LocalRetriever.from_index_dir(store.root, OtherEmbedder())
    retriever = LocalRetriever.from_index_dir(store.root, EMBEDDER)
    assert "chemistry:gold" in [h.doc_id for h in retriever.search("gold", k=5)]
