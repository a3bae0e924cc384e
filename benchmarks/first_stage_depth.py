"""How deep the first stage finds the answer: recall at depth 1/10/20/50/100 of dense, keyword
and hybrid search on a dev set, side by side. A reranker only reorders what the first stage
found, so recall@50 (or @100) is the ceiling of hybrid+rerank over that many candidates.

Usage: python benchmarks/first_stage_depth.py [--index-dir var/eval-indexes]
           [--queries ../shared/eval/english_reverse_dictionary_dev.jsonl]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from common import ROOT

from retrieval.embedder import SentenceTransformerEmbedder
from retrieval.evaluation import read_cases, score_rankings
from retrieval.local import LocalRetriever
from retrieval.pipeline import SearchParams

DEPTHS = (1, 10, 20, 50, 100)
DEEPEST = max(DEPTHS)
CONFIGS = {
    "dense": {"mode": "dense", "fusion": {"k_dense": DEEPEST}},
    "keyword": {"mode": "keyword", "fusion": {"k_keyword": DEEPEST}},
    # The default fusion, and the two compared before it was tuned.
    "hybrid default": {"mode": "hybrid", "fusion": {"k_dense": DEEPEST, "k_keyword": DEEPEST}},
    "hybrid kw0.5 k60": {
        "mode": "hybrid",
        "fusion": {"k_dense": DEEPEST, "k_keyword": DEEPEST, "keyword_weight": 0.5, "rrf_k": 60},
    },
    "hybrid kw1.0 k60": {
        "mode": "hybrid",
        "fusion": {"k_dense": DEEPEST, "k_keyword": DEEPEST, "keyword_weight": 1.0, "rrf_k": 60},
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--index-dir", type=Path, default=ROOT / "var" / "eval-indexes")
    parser.add_argument(
        "--queries",
        type=Path,
        default=ROOT.parent / "shared" / "eval" / "english_reverse_dictionary_dev.jsonl",
    )
    args = parser.parse_args()
    cases = read_cases(args.queries)
    retriever = LocalRetriever.from_index_dir(args.index_dir, SentenceTransformerEmbedder())
    print(f"{'first stage':16} " + " ".join(f"{'@' + str(d):>6}" for d in DEPTHS))
    for name, params in CONFIGS.items():
        retriever.params = SearchParams.model_validate(params)
        hits = retriever.search_many([c.query for c in cases], k=DEEPEST)
        ranked = [[h.doc_id for h in ranking] for ranking in hits]
        # The same recall@k as `tutor eval retrieval`, at each depth.
        recalls = [score_rankings(ranked, cases, d)[f"recall@{d}"] for d in DEPTHS]
        print(f"{name:16} " + " ".join(f"{r:6.3f}" for r in recalls))


if __name__ == "__main__":
    main()
