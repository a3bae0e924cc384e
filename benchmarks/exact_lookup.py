"""What the exact look-up adds to retrieval for the answer check: of the answer set's questions
about entries, how many have all their target entries among the sources the model is given,
with fusion's exact-look-up weight at 0 (dense and BM25 alone), 1 (shipped) and 2, side by
side in one run, per subject and form. In process (`LocalRetriever` over the demo indexes).

Usage: python benchmarks/exact_lookup.py [data/eval/answers.dev.jsonl] [--top 3]
(after `make prepare`; ~1 min)
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from common import ROOT

from evaluation.answers import AnswerQuestion
from retrieval.embedder import SentenceTransformerEmbedder
from retrieval.local import LocalRetriever
from retrieval.pipeline import SearchParams

WEIGHTS = (0.0, 1.0, 2.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("questions", nargs="?", default=ROOT / "data/eval/answers.dev.jsonl")
    parser.add_argument("--top", type=int, default=3, help="sources the model is given")
    args = parser.parse_args()
    lines = Path(args.questions).read_text(encoding="utf-8").splitlines()
    items = [AnswerQuestion.model_validate_json(line) for line in lines if line.strip()]
    items = [item for item in items if item.doc_ids]
    retriever = LocalRetriever.from_index_dir(ROOT / "var/indexes", SentenceTransformerEmbedder())
    found: dict[float, Counter[tuple[str, str]]] = {}
    for weight in WEIGHTS:
        retriever.params = SearchParams.model_validate({"fusion": {"exact_weight": weight}})
        found[weight] = Counter()
        for item in items:
            ids = {hit.doc_id for hit in retriever.search(item.question, k=args.top)}
            found[weight][(item.subject, item.form)] += set(item.doc_ids) <= ids
    asked = Counter((item.subject, item.form) for item in items)
    print(f"| subject / form | asked | {' | '.join(f'exact_weight {w}' for w in WEIGHTS)} |")
    print("| --- | ---: |" + " ---: |" * len(WEIGHTS))
    for key, count in sorted(asked.items()):
        cells = " | ".join(str(found[w][key]) for w in WEIGHTS)
        print(f"| {key[0]} / {key[1]} | {count} | {cells} |")
    totals = " | ".join(str(sum(found[w].values())) for w in WEIGHTS)
    print(f"| **all** | {len(items)} | {totals} |")


if __name__ == "__main__":
    main()
