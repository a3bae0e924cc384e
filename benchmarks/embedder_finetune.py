"""Does fine-tuning the MiniLM bi-encoder on corpus-made queries raise dense recall on the dev
set? Trains a copy of the shipped all-MiniLM-L6-v2 with in-batch negatives (sentence-transformers'
MultipleNegativesRankingLoss) on (query, sense passage) pairs made from the english corpus the
way the reranker's training queries are (a sense gloss paraphrased with WordNet synonyms,
headword removed; some synonym lists), then scores the tuned and the shipped model side by side
on the dev set over one proxy index: every passage of the gold documents plus every passage of a
random sample of the other english documents. The proxy keeps the run under an hour; both models
search the same passages, so the comparison is fair, but its recall is higher than the full
index's (it holds a fifth of the distractors).

Usage: python benchmarks/embedder_finetune.py [--budget-minutes 25] [--distractors 30000]
           [--corpus ../shared/corpora/english.jsonl.gz]
           [--queries ../shared/eval/english_reverse_dictionary_dev.jsonl] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from common import ROOT

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from retrieval.corpus import CorpusReport, Document, read_documents  # noqa: E402
from retrieval.embedder import default_model_path  # noqa: E402
from retrieval.evaluation import EvalCase, read_cases, score_rankings  # noqa: E402
from retrieval.preprocess import prepare_query  # noqa: E402
from retrieval.shard import embedding_text, passages_of  # noqa: E402
from training import training_queries as recipe  # noqa: E402

BATCH = 64
LEARNING_RATE = 3e-5
WARMUP_STEPS = 50


def training_pair(
    doc: Document, synonyms: dict[str, list[str]], rng: random.Random
) -> tuple[str, str] | None:
    """(query, positive passage as embedded) for one random sense of an english entry."""
    passage = rng.choice(passages_of([doc]))
    senses = recipe.parse_senses(passage.text)
    if not senses:
        return None
    sense, positive = senses[0], embedding_text(passage)
    paraphrased = recipe.without_headword(recipe.paraphrase(sense.gloss, synonyms, rng), doc.title)
    if len(paraphrased.split()) >= 3 and rng.random() < 0.8:
        return recipe.dictionary_style(paraphrased, sense.pos), positive
    by_synonyms = recipe.synonym_query(doc, sense)
    return (by_synonyms, positive) if by_synonyms else None


def fine_tune(docs: list[Document], budget_s: float, rng: random.Random) -> tuple[Any, int]:
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    synonyms = recipe.synonym_map(docs)
    model = SentenceTransformer(str(default_model_path()), device="cpu")
    model.max_seq_length = 128
    loss_fn = MultipleNegativesRankingLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    order = rng.sample(range(len(docs)), len(docs))
    started, step, cursor = time.monotonic(), 0, 0
    model.train()
    while time.monotonic() - started < budget_s and cursor < len(order):
        queries: list[str] = []
        positives: list[str] = []
        titles: set[str] = set()
        while len(queries) < BATCH and cursor < len(order):
            doc = docs[order[cursor]]
            cursor += 1
            pair = training_pair(doc, synonyms, rng)
            # Two entries of one title in a batch would be each other's false negative.
            if pair is None or doc.title.lower() in titles:
                continue
            titles.add(doc.title.lower())
            queries.append(pair[0])
            positives.append(pair[1])
        for group in optimizer.param_groups:
            group["lr"] = LEARNING_RATE * min(1.0, (step + 1) / WARMUP_STEPS)
        loss = loss_fn([model.tokenize(queries), model.tokenize(positives)], None)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
        if step % 25 == 0:
            print(f"step {step}: loss {loss.item():.4f} ({time.monotonic() - started:.0f} s)")
    model.eval()
    return model, step


def proxy_passages(
    docs: list[Document], cases: list[EvalCase], distractors: int, rng: random.Random
) -> list[tuple[str, str]]:
    gold = {g for case in cases for g in case.gold}
    others = [d for d in docs if d.id not in gold]
    chosen = [d for d in docs if d.id in gold] + rng.sample(others, distractors)
    return [(p.doc_id, embedding_text(p)) for p in passages_of(chosen)]


def dense_rankings(
    model: Any, passages: list[tuple[str, str]], cases: list[EvalCase], k: int = 10
) -> list[list[str]]:
    import numpy as np

    def encode(texts: list[str]) -> Any:
        return model.encode(texts, batch_size=128, normalize_embeddings=True)

    vectors = encode([text for _, text in passages])
    queries = encode([prepare_query(case.query).text for case in cases])
    rankings = []
    for row in queries @ vectors.T:
        ranked: list[str] = []
        for index in np.argsort(-row):
            doc_id = passages[index][0]
            if doc_id not in ranked:
                ranked.append(doc_id)
            if len(ranked) == k:
                break
        rankings.append(ranked)
    return rankings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget-minutes", type=float, default=25.0)
    parser.add_argument("--distractors", type=int, default=30_000)
    parser.add_argument(
        "--corpus", type=Path, default=ROOT.parent / "shared/corpora/english.jsonl.gz"
    )
    parser.add_argument(
        "--queries",
        type=Path,
        default=ROOT.parent / "shared/eval/english_reverse_dictionary_dev.jsonl",
    )
    parser.add_argument("--out", type=Path, help="keep the tuned model here")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    docs = list(read_documents([args.corpus], CorpusReport()))
    cases = read_cases(args.queries)
    tuned, steps = fine_tune(docs, args.budget_minutes * 60, rng)
    print(f"fine-tuned for {steps} steps ({steps * BATCH} pairs)")
    tuned.save(str(args.out or Path(tempfile.mkdtemp(prefix="embedder-finetune-"))))
    passages = proxy_passages(docs, cases, args.distractors, random.Random(args.seed + 1))
    print(f"proxy index: {len(passages)} passages, {len(cases)} dev queries")
    shipped = SentenceTransformer(str(default_model_path()), device="cpu")
    print(f"{'model':22} {'recall@1':>9} {'recall@10':>10} {'MRR@10':>8}")
    for name, model in (("all-MiniLM-L6-v2", shipped), ("fine-tuned", tuned)):
        scores = score_rankings(dense_rankings(model, passages, cases), cases, k=10)
        print(
            f"{name:22} {scores['recall@1']:9.3f} {scores['recall@10']:10.3f}"
            f" {scores['mrr@10']:8.3f}"
        )


if __name__ == "__main__":
    main()
