import json
import math
from pathlib import Path

import pytest
import typer

from cluster.cli.evaluate import check_modes, format_table, parse_params
from retrieval.corpus import Document
from retrieval.dense import DenseIndexParams
from retrieval.evaluation import (
    EvalCase,
    evaluate,
    latency_summary,
    ndcg_at_k,
    percentile,
    read_cases,
    recall_at_k,
    reciprocal_rank,
    score_rankings,
)
from retrieval.local import LocalRetriever
from retrieval.pipeline import SearchParams
from retrieval.shard import Shard, embed_passages, passages_of
from tests.fakes.hashing_embedder import HashingEmbedder

RANKED = ["a", "b", "c", "d", "e"]


def test_recall_counts_the_share_of_gold_found_within_the_cutoff():
    assert recall_at_k(RANKED, {"c"}, 2) == 0.0
    assert recall_at_k(RANKED, {"c"}, 3) == 1.0
    assert recall_at_k(RANKED, {"b", "z"}, 5) == 0.5
    assert recall_at_k(RANKED, set(), 5) == 0.0


def test_reciprocal_rank_uses_the_first_gold_hit_and_ignores_hits_past_k():
    assert reciprocal_rank(RANKED, {"c", "e"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(RANKED, {"e"}, k=4) == 0.0
    assert reciprocal_rank(RANKED, {"a"}) == 1.0


def test_ndcg_discounts_by_log_rank_and_normalises_by_the_ideal_ranking():
    # gold at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5); ideal = 1 + 1/log2(3)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(RANKED, {"b", "d"}, 10) == pytest.approx(expected)
    assert ndcg_at_k(RANKED, {"a"}, 10) == 1.0
    assert ndcg_at_k(RANKED, {"e"}, 4) == 0.0


def test_ndcg_ideal_is_capped_at_k_when_gold_exceeds_it():
    assert ndcg_at_k(["a", "b"], {"a", "b", "c"}, 2) == pytest.approx(1.0)


def test_percentile_interpolates_between_order_statistics():
    values = [40.0, 10.0, 20.0, 30.0]  # sorted: 10 20 30 40
    assert percentile(values, 50) == pytest.approx(25.0)
    assert percentile(values, 95) == pytest.approx(38.5)
    assert percentile(values, 100) == 40.0
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_latency_summary_reports_p50_p95_p99():
    summary = latency_summary([float(v) for v in range(1, 102)])  # 1..101
    assert summary == {"p50_ms": 51.0, "p95_ms": 96.0, "p99_ms": 100.0}


def test_score_rankings_averages_over_queries():
    cases = [EvalCase("q1", frozenset({"a"})), EvalCase("q2", frozenset({"z"}))]
    metrics = score_rankings([["a", "b"], ["b", "z"]], cases, k=10)
    assert metrics["recall@1"] == 0.5
    assert metrics["recall@5"] == 1.0
    assert metrics["mrr@10"] == pytest.approx((1 + 0.5) / 2)


def test_read_cases_skips_blank_lines(tmp_path: Path):
    path = tmp_path / "dev.jsonl"
    path.write_text(json.dumps({"query": "q", "gold": ["x", "y"]}) + "\n\n")
    assert read_cases(path) == [EvalCase("q", frozenset({"x", "y"}))]


def small_retriever() -> LocalRetriever:
    docs = [
        Document(id="s:noun", subject="s", title="noun", text="a word naming a thing"),
        Document(id="s:verb", subject="s", title="verb", text="a word for an action"),
        Document(id="s:atom", subject="s", title="atom", text="smallest unit of an element"),
    ]
    embedder = HashingEmbedder()
    passages = passages_of(docs)
    vectors = embed_passages(embedder, passages)
    shard = Shard.build("s", passages, vectors, DenseIndexParams())
    return LocalRetriever(embedder, {"s": shard})


def test_evaluate_reports_each_mode_and_restores_the_params():
    retriever = small_retriever()
    cases = [EvalCase("word for an action", frozenset({"s:verb"}))]
    reports = evaluate(retriever, cases, ["dense", "keyword"], k=10)
    assert [r.mode for r in reports] == ["dense", "keyword"]
    assert all(r.metrics["recall@1"] == 1.0 for r in reports)
    assert retriever.params == SearchParams()


def test_evaluate_refuses_rerank_without_a_reranker_and_misspelt_modes():
    retriever = small_retriever()
    cases = [EvalCase("atom", frozenset({"s:atom"}))]
    with pytest.raises(ValueError, match="reranker"):
        evaluate(retriever, cases, ["rerank"])
    with pytest.raises(ValueError):
        evaluate(retriever, cases, ["hybird"])


def test_check_modes_names_the_problem():
    assert check_modes(["dense", "hybrid"], None) is None
    assert "unknown mode" in (check_modes(["bm25"], None) or "")
    assert "--reranker-dir" in (check_modes(["rerank"], None) or "")


def test_format_table_puts_modes_side_by_side():
    retriever = small_retriever()
    cases = [EvalCase("atom", frozenset({"s:atom"}))]
    table = format_table(evaluate(retriever, cases, ["dense", "keyword"]))
    lines = table.splitlines()
    assert lines[0].split() == ["dense", "keyword"]
    assert lines[2].split() == ["recall@1", "1.0000", "1.0000"]


def test_eval_params_take_the_routers_search_block_and_refuse_unknown_fields():
    params = parse_params('{"rerank_top_n": 50, "fusion": {"keyword_weight": 1.0}}')
    assert params is not None and params.rerank_top_n == 50
    assert params.fusion.keyword_weight == 1.0 and params.fusion.dense_weight == 1.0
    assert parse_params(None) is None
    with pytest.raises(typer.Exit):
        parse_params('{"rerank_topn": 50}')
