import pytest

from retrieval.fusion import FusionParams, fuse, reciprocal_rank_fusion
from retrieval.keyword import collection_idf, rescore
from retrieval.preprocess import prepare_query
from retrieval.shard import Hit, Shard, ShardCandidates
from tests.conftest import keyword_shard


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


@pytest.fixture(scope="module")
def keyword_shards() -> list[Shard]:
    return [keyword_shard(s) for s in ("english", "chemistry", "computing")]


def test_bm25_hits_of_several_shards_merge_by_the_idf_of_their_union(keyword_shards):
    keywords = prepare_query("What is the atomic number of carbon?").keywords
    found = [s.candidates(None, keywords, 0, 20) for s in keyword_shards]
    by_own_idf = max((h for c in found for h in c.keyword), key=lambda h: h.score)
    # In the small chemistry shard "atomic" and "number" are in every entry, so by each shard's
    # own IDF the WordNet sense of carbon (no atomic number in it) wins the merge.
    assert by_own_idf.doc_id == "english:carbon"
    merged = fuse(found, FusionParams(), "keyword")
    assert merged[0].doc_id == "chemistry:carbon"
    assert {"english:carbon", "chemistry:silicon"} <= {h.doc_id for h in merged[:5]}


def test_one_shard_keeps_its_own_bm25_order_and_scores(keyword_shards):
    english = keyword_shards[0]
    found = english.candidates(None, "noun", 0, 5)
    assert [h.doc_id for h in fuse([found], FusionParams(), "keyword")] == [
        h.doc_id for h in found.keyword
    ]
    # The union of one shard is that shard: rescoring changes nothing.
    idf = collection_idf([found.term_stats])
    for hit_, terms in zip(found.keyword, found.keyword_terms, strict=True):
        assert rescore(terms, found.term_stats, idf) == pytest.approx(hit_.score, rel=1e-5)


def test_an_entry_found_by_a_value_the_question_gives_joins_the_top():
    """Resemblance ranks hydrogen first for "which element has atomic number 40?"; the
    exact look-up's ranking brings zirconium into the top two, and its weight 0 leaves it out."""
    dense = [hit("hydrogen", 0.6), hit("helium", 0.5), hit("zirconium", 0.4)]
    keyword = [hit("hydrogen", 9.0), hit("lithium", 8.0), hit("helium", 7.0)]
    exact = [hit("zirconium", 200.0)]
    candidates = [ShardCandidates("chemistry", dense, keyword, exact=exact)]
    fused = fuse(candidates, FusionParams(), "hybrid")
    assert "zirconium" in [h.doc_id for h in fused[:2]]
    without = fuse(candidates, FusionParams(exact_weight=0), "hybrid")
    assert "zirconium" not in [h.doc_id for h in without[:2]]


def test_candidates_from_a_shard_of_the_release_before_fuse_without_exact_matches():
    old = ShardCandidates("chemistry", [hit("carbon", 0.7)], [hit("carbon", 3.0)])
    del old.__dict__["exact"]  # as unpickled from a shard that predates the field
    assert [h.doc_id for h in fuse([old], FusionParams(), "hybrid")] == ["carbon"]
