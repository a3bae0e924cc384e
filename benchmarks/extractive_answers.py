"""What the answer check's last resort gets right with no model at all: for each labelled
question, the real search (hybrid, the graph's default without a reranker) gives the three
passages a model would see, and the repair's extractive answer is judged as `tutor eval
answers` judges a model's. Two index directories side by side, built by `tutor ingest` from the
same curriculum (for example before and after a chunking change), in one run.

It bounds what `repair` can serve: a question the extractive answer gets wrong is one the
check can only repair into another wrong answer. Takes about a minute on 2 CPU cores.

Usage: python benchmarks/extractive_answers.py --index-dir var/indexes \
           --baseline-index-dir /tmp/idx-old [--split test] [--show-wrong]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from common import ROOT

from cluster.cli.answer_eval import read_questions
from models.answer_eval import AnswerQuestion, is_right
from models.prompts import SourceText
from models.response_optimizer import Evidence, extractive_answer
from retrieval.embedder import SentenceTransformerEmbedder
from retrieval.local import LocalRetriever
from service.router import GenerationParams

SOURCES_IN_PROMPT = GenerationParams().sources_in_prompt  # the router's default


@dataclass
class Column:
    name: str
    right: int = 0
    right_doc_first: int = 0
    asked: int = 0
    wrong: list[str] = field(default_factory=list)


def measure(
    name: str, index_dir: Path, items: list[AnswerQuestion], embedder: SentenceTransformerEmbedder
) -> Column:
    retriever = LocalRetriever.from_index_dir(index_dir, embedder)
    column = Column(name)
    for item in items:
        hits = retriever.search(item.question, k=SOURCES_IN_PROMPT)
        evidence = Evidence(item.question, [SourceText(h.title, h.text) for h in hits])
        answer = extractive_answer(evidence) or ""
        column.asked += 1
        column.right_doc_first += bool(hits) and hits[0].doc_id == item.doc_id
        if is_right(answer, item):
            column.right += 1
        else:
            column.wrong.append(f"{item.question} -> {answer[:120]!r}")
    return column


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--baseline-index-dir", type=Path, required=True)
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--show-wrong", action="store_true")
    args = parser.parse_args()
    items = read_questions(ROOT / "data" / "eval" / f"answers.{args.split}.jsonl")
    embedder = SentenceTransformerEmbedder()
    columns = [
        measure("baseline", args.baseline_index_dir, items, embedder),
        measure("index", args.index_dir, items, embedder),
    ]
    print(f"answers.{args.split}.jsonl, {len(items)} questions")
    print(f"{'':28}" + "".join(f"{c.name:>12}" for c in columns))
    print(f"{'right doc first':28}" + "".join(f"{c.right_doc_first:>12}" for c in columns))
    print(f"{'extractive answer right':28}" + "".join(f"{c.right:>12}" for c in columns))
    share = "".join(f"{c.right / c.asked:>12.1%}" for c in columns)
    print(f"{'share right':28}" + share)
    if args.show_wrong:
        for column in columns:
            for line in column.wrong:
                print(f"{column.name}: {line}")


if __name__ == "__main__":
    main()
