import pytest

from retrieval.fusion import FusionParams, fuse, reciprocal_rank_fusion
from retrieval.shard import Hit, ShardCandidates


def hit(doc_id: str, score: float, subject: str = "s") -> Hit:
    return Hit(doc_id, subject, doc_id, "", score)


def test_rrf_rewards_documents_ranked_well_by_both_signals():
    dense = [hit("a", 0.9), hit("b", 0.8), hit("c", 0.7)]
    keyword = [hit("b", 12.0), hit("d", 9.0), hit("c", 3.0)]
    fused = reciprocal_rank_fusion([(dense, 1.0), (keyword, 1.0)], rrf_k=60)
    assert [h.doc_id for h in fused] == ["b", "c", "a", "d"]
    assert fused[0].score == pytest.approx(1 / 62 + 1 / 61)


def test_weights_tilt_the_fusion_toward_one_signal():
    dense = [hit("a", 0.9), hit("b", 0.8)]
    keyword = [hit("b", 5.0), hit("a", 4.0)]
    favour_dense = reciprocal_rank_fusion([(dense, 1.0), (keyword, 0.2)], rrf_k=60)
    favour_keyword = reciprocal_rank_fusion([(dense, 0.2), (keyword, 1.0)], rrf_k=60)
    assert favour_dense[0].doc_id == "a" and favour_keyword[0].doc_id == "b"


def test_dense_hits_from_several_shards_merge_by_cosine():
    chem = ShardCandidates("chemistry", [hit("chemistry:carbon", 0.72, "chemistry")], [])
    eng = ShardCandidates("english", [hit("english:carbon", 0.60, "english")], [])
    fused = fuse([eng, chem], FusionParams(), "dense")
    assert [h.doc_id for h in fused] == ["chemistry:carbon", "english:carbon"]


def test_keyword_mode_orders_shards_hits_by_bm25_score():
    weak = ShardCandidates("computing", [], [hit("computing:x", 1.5)])
    strong = ShardCandidates("english", [], [hit("english:noun", 9.0)])
    fused = fuse([weak, strong], FusionParams(), "keyword")
    assert [h.doc_id for h in fused] == ["english:noun", "computing:x"]
