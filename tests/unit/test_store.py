"""Shards on disk: publish/load round trip, and refusal of interrupted or damaged versions."""

from pathlib import Path

import pytest

from retrieval.corpus import Document
from retrieval.dense import DenseIndexParams
from retrieval.errors import ShardLoadError
from retrieval.ingest import build_shard
from retrieval.store import CURRENT, ShardStore
from tests.fakes.hashing_embedder import HashingEmbedder

EMBEDDER = HashingEmbedder()


@pytest.fixture
def chemistry_shard(chemistry_docs):
    docs = [Document.model_validate(d) for d in chemistry_docs]
    return build_shard("chemistry", docs, EMBEDDER, DenseIndexParams(), show_progress=False)


def test_a_published_shard_loads_back_and_answers_the_same(tmp_path: Path, chemistry_shard):
    store = ShardStore(tmp_path)
    manifest = store.publish(chemistry_shard, EMBEDDER.name)
    loaded, loaded_manifest = store.load("chemistry")
    vector = EMBEDDER.embed(["carbon atomic number"])[0]
    before = chemistry_shard.candidates(vector, "carbon", 5, 5)
    after = loaded.candidates(vector, "carbon", 5, 5)
    assert [h.doc_id for h in after.dense] == [h.doc_id for h in before.dense]
    assert after.keyword[0].doc_id == "chemistry:carbon"
    assert loaded_manifest == manifest and manifest.documents == 137
    assert manifest.version_name == "v000001" and manifest.index_kind == "flat"


def test_each_publish_is_a_new_version_and_current_points_at_the_latest(tmp_path, chemistry_shard):
    store = ShardStore(tmp_path)
    store.publish(chemistry_shard, EMBEDDER.name)
    second = store.publish(chemistry_shard, EMBEDDER.name)
    assert (tmp_path / "chemistry" / CURRENT).read_text() == "v000002" == second.version_name
    assert store.current_manifest("chemistry").version == 2


def test_an_interrupted_build_is_never_loaded(tmp_path: Path, chemistry_shard):
    store = ShardStore(tmp_path)
    store.publish(chemistry_shard, EMBEDDER.name)
    # What a crash mid-build leaves: a staging directory with data but no manifest.
    staging = tmp_path / "chemistry" / "versions" / ".building-crashed"
    staging.mkdir()
    (staging / "passages.jsonl").write_text("partial")
    shard, manifest = store.load("chemistry")
    assert manifest.version == 1 and len(shard.passages) == manifest.passages


def test_a_corrupt_file_is_detected_at_load(tmp_path: Path, chemistry_shard):
    store = ShardStore(tmp_path)
    manifest = store.publish(chemistry_shard, EMBEDDER.name)
    index_file = tmp_path / "chemistry" / "versions" / manifest.version_name / "dense.faiss"
    index_file.write_bytes(index_file.read_bytes()[:-100])
    with pytest.raises(ShardLoadError, match="dense.faiss is corrupt"):
        store.load("chemistry")


def test_a_missing_shard_says_so(tmp_path: Path):
    with pytest.raises(ShardLoadError, match="no published version"):
        ShardStore(tmp_path).load("history")


def test_large_shards_get_hnsw_and_small_ones_exact_search(chemistry_docs):
    docs = [Document.model_validate(d) for d in chemistry_docs]
    params = DenseIndexParams(hnsw_threshold=100)
    shard = build_shard("chemistry", docs, EMBEDDER, params, show_progress=False)
    vector = EMBEDDER.embed(["gold"])[0]
    assert type(shard.dense_index).__name__ == "IndexHNSWFlat"
    assert shard.candidates(vector, "gold", 3, 0).dense[0].doc_id == "chemistry:gold"
