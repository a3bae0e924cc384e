"""Training groups and loop for the cross-encoder reranker, from the curriculum corpora only.

The queries come from `training_queries.py`; the positive is the document that answers one, and
the negatives are what the first stage wrongly ranks for that query.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from retrieval.corpus import Document
from retrieval.fusion import FusionParams
from retrieval.local import LocalRetriever
from retrieval.pipeline import SearchParams, candidate_counts, first_stage
from retrieval.preprocess import prepare_query
from retrieval.shard import Hit
from training.training_queries import TrainingQuery


@dataclass(frozen=True)
class TrainingGroup:
    """A query with its passages: `passages[0]` is the positive, the rest are negatives."""

    query: str
    passages: tuple[str, ...]
    kind: str


def is_false_negative(hit: Hit, query: TrainingQuery, positive_title: str) -> bool:
    # Synonyms share a synset gloss, so their entries contain the query's text word for word:
    # calling them wrong would teach the model to reject the very match it should find.
    if hit.doc_id == query.positive_id or hit.title.lower() == positive_title.lower():
        return True
    return bool(query.evidence) and query.evidence.lower() in hit.text.lower()


def hard_negatives(
    ranking: Sequence[Hit],
    query: TrainingQuery,
    positive_title: str,
    count: int,
    rng: random.Random | None = None,
) -> list[Hit]:
    """Wrong answers the first stage ranked for the query, in rank order: its best `count`, or
    with `rng` a sample of all of them (the reranker must sort the whole candidate list, not
    only separate the top few)."""
    wrong = [h for h in ranking if not is_false_negative(h, query, positive_title)]
    if rng is None or len(wrong) <= count:
        return wrong[:count]
    return [wrong[i] for i in sorted(rng.sample(range(len(wrong)), count))]


def scoring_text(title: str, text: str, max_chars: int = 400) -> str:
    # Same form as retrieval.reranker.passage_for_scoring: train on what the model will see.
    return f"{title}: {text[:max_chars]}"


def make_group(
    query: TrainingQuery,
    positive: Document,
    ranking: Sequence[Hit],
    negatives: int,
    rng: random.Random | None = None,
) -> TrainingGroup | None:
    """None when the first stage misses the positive: the reranker never sees such a query's
    answer, and most of them pair unrelated senses of one title (FOLDOC's *mascot* is an
    acronym), which would teach it to match nonsense."""
    found = next((h for h in ranking if h.doc_id == positive.id), None)
    if found is None:
        return None
    wrong = hard_negatives(ranking, query, positive.title, negatives, rng)
    if len(wrong) < negatives:
        return None
    # The positive as the first stage returned it (its best passage: with entries split by
    # sense, the sense that matched), which is what the reranker will score when serving.
    passages = tuple(scoring_text(h.title, h.text) for h in (found, *wrong))
    return TrainingGroup(query.text, passages, query.kind)


def build_groups(
    queries: Sequence[TrainingQuery],
    documents: dict[str, Document],
    rank: Callable[[list[str]], list[list[Hit]]],
    negatives: int,
    rng: random.Random | None = None,
    batch_size: int = 64,
) -> list[TrainingGroup]:
    """Mine hard negatives with `rank` (query texts -> first-stage hits), in batches."""
    groups: list[TrainingGroup] = []
    for start in range(0, len(queries), batch_size):
        batch = queries[start : start + batch_size]
        for query, ranking in zip(batch, rank([q.text for q in batch]), strict=True):
            group = make_group(query, documents[query.positive_id], ranking, negatives, rng)
            if group is not None:
                groups.append(group)
    return groups


def first_stage_ranker(
    retriever: LocalRetriever, depth: int, fusion: FusionParams | None = None
) -> Callable[[list[str]], list[list[Hit]]]:
    """Hybrid first-stage rankings for a batch of queries (one embedder call per batch)."""
    params = SearchParams.model_validate(
        {
            **retriever.params.model_dump(),
            "mode": "hybrid",
            "fusion": (fusion or retriever.params.fusion).model_dump(),
        }
    )
    k_dense, k_keyword = candidate_counts("hybrid", params.fusion)
    k_dense, k_keyword = max(k_dense, depth), max(k_keyword, depth)
    shards = list(retriever.shards.values())

    def rank(texts: list[str]) -> list[list[Hit]]:
        prepared = [prepare_query(t) for t in texts]
        vectors = retriever.embedder.embed([p.text for p in prepared])
        rankings = []
        for query, vector in zip(prepared, vectors, strict=True):
            candidates = [s.candidates(vector, query.keywords, k_dense, k_keyword) for s in shards]
            rankings.append(first_stage(candidates, params)[:depth])
        return rankings

    return rank


def listwise_loss(logits: Any, group_size: int) -> Any:
    """Softmax cross-entropy over each group's scores with the positive in column 0."""
    import torch

    scores = logits.view(-1, group_size)
    target = torch.zeros(scores.shape[0], dtype=torch.long)
    return torch.nn.functional.cross_entropy(scores, target)


def group_batches(
    groups: Sequence[TrainingGroup], per_batch: int, rng: random.Random
) -> Iterator[list[TrainingGroup]]:
    order = list(groups)
    rng.shuffle(order)
    for start in range(0, len(order) - per_batch + 1, per_batch):
        yield order[start : start + per_batch]


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 1
    groups_per_batch: int = 8
    learning_rate: float = 3e-5
    warmup_steps: int = 30
    max_length: int = 160
    time_budget_s: float = 25 * 60
    freeze_embeddings: bool = True


def lr_factor(step: int, warmup: int, total: int) -> float:
    """Linear warm-up to 1, then linear decay to 0 at `total` steps."""
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total - step) / max(total - warmup, 1))


def train_step(model: Any, optimizer: Any, batch: list[TrainingGroup], max_length: int) -> float:
    """One optimiser step on a batch of groups; returns the loss."""
    queries = [g.query for g in batch for _ in g.passages]
    passages = [p for g in batch for p in g.passages]
    features = model.tokenizer(
        queries, passages, truncation=True, max_length=max_length, padding=True,
        return_tensors="pt",
    )  # fmt: skip
    logits = model.model(**features).logits
    loss = listwise_loss(logits, len(batch[0].passages))
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return float(loss.item())


def train(
    model: Any,
    groups: Sequence[TrainingGroup],
    config: TrainConfig,
    rng: random.Random,
    log: Callable[[str], object] = print,
) -> int:
    """Fine-tune `model` (a sentence-transformers CrossEncoder) in place; returns the steps run.

    Stops early at `config.time_budget_s`, so a run fits its CPU budget whatever the pair count.
    """
    import torch

    if config.freeze_embeddings:
        # A third of the optimiser's work on CPU, and with a few thousand pairs the vocabulary
        # rows would only drift from what the embedder learnt.
        model.model.base_model.embeddings.requires_grad_(False)
    trainable = [p for p in model.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=config.learning_rate)
    total = config.epochs * (len(groups) // config.groups_per_batch)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(step, config.warmup_steps, total)
    )
    model.model.train()
    started, steps, recent = time.monotonic(), 0, []
    for _ in range(config.epochs):
        for batch in group_batches(groups, config.groups_per_batch, rng):
            recent.append(train_step(model, optimizer, batch, config.max_length))
            schedule.step()
            steps += 1
            if steps % 25 == 0:
                log(f"step {steps}: loss {sum(recent) / len(recent):.4f}")
                recent = []
            if time.monotonic() - started > config.time_budget_s:
                log(f"time budget reached after {steps} steps")
                model.model.eval()
                return steps
    model.model.eval()
    return steps
