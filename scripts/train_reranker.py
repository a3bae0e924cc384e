"""Train the cross-encoder reranker from corpus files and write a versioned model directory.

    python scripts/train_reranker.py /work/shared/corpora/*.jsonl.gz \
        --index-dir var/eval-indexes --out var/models [--dev FILE]

Seeded and offline: starts from the shipped all-MiniLM-L6-v2 weights, mines hard negatives with
the first stage over --index-dir, and writes <out>/reranker-<yyyymmdd>-<shorthash>/ with a
tutor-model.json manifest (the hash is of the trained weights). Never give it an eval set as a
corpus: --dev is only scored, after training.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from models.prepare import MANIFEST_FORMAT, MANIFEST_NAME  # noqa: E402
from retrieval.corpus import CorpusReport, Document, read_documents  # noqa: E402
from retrieval.embedder import SentenceTransformerEmbedder, default_model_path  # noqa: E402
from retrieval.evaluation import evaluate, read_cases  # noqa: E402
from retrieval.fusion import FusionParams  # noqa: E402
from retrieval.local import LocalRetriever  # noqa: E402
from retrieval.reranker import CrossEncoderReranker  # noqa: E402
from retrieval.store import ShardStore  # noqa: E402
from training.reranker_training import (  # noqa: E402
    TrainConfig,
    build_groups,
    first_stage_ranker,
    train,
)
from training.training_queries import (  # noqa: E402
    build_queries,
)

# No raw WordNet-gloss queries: their positive holds the query word for word, so they teach the
# model to spot copied text (docs/PERFORMANCE.md: recall@1 0.110 with 3,000 of them, 0.138 without).
DEFAULT_QUOTAS = "paraphrase=3000,synonyms=1500,cross=1500,definition=600,title=400"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="+", type=Path, help="corpus .jsonl(.gz) files")
    parser.add_argument("--index-dir", type=Path, action="append", required=True)
    parser.add_argument("--out", type=Path, default=Path("var/models"))
    parser.add_argument("--dev", type=Path, help="queries file to score after training")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--quotas", default=DEFAULT_QUOTAS, help="kind=count,...")
    parser.add_argument("--negatives", type=int, default=3, help="hard negatives per query")
    parser.add_argument("--mine-depth", type=int, default=20, help="first-stage hits to mine")
    parser.add_argument(
        "--mine-fusion",
        default='{"keyword_weight": 1.0, "rrf_k": 60}',
        help="FusionParams JSON for the mining first stage (the rerank pool it should mirror)",
    )
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--groups-per-batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=3e-5)
    parser.add_argument("--max-length", type=int, default=160)
    parser.add_argument("--budget-minutes", type=float, default=25.0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--train-embeddings", action="store_true", help="do not freeze them")
    return parser.parse_args(argv)


def parse_quotas(text: str) -> dict[str, int]:
    pairs = (item.split("=") for item in text.split(",") if item.strip())
    return {kind.strip(): int(count) for kind, count in pairs}


def seed_everything(seed: int) -> random.Random:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return random.Random(seed)


def load_retriever(index_dirs: list[Path]) -> LocalRetriever:
    shards = {}
    for index_dir in index_dirs:
        store = ShardStore(index_dir)
        shards.update({s: store.load(s)[0] for s in store.subjects()})
    return LocalRetriever(SentenceTransformerEmbedder(), shards)


def base_cross_encoder() -> Any:
    from sentence_transformers import CrossEncoder

    # One logit per pair; the classification head is new, the encoder is MiniLM's.
    return CrossEncoder(str(default_model_path()), num_labels=1, device="cpu")


def weights_hash(model_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(model_dir.glob("*.safetensors")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def dev_metrics(model_dir: Path, retriever: LocalRetriever, dev: Path) -> dict[str, Any]:
    retriever.reranker = CrossEncoderReranker(model_dir)
    reports = evaluate(retriever, read_cases(dev), ["dense", "hybrid", "rerank"], k=10)
    return {"file": str(dev), **{r.mode: r.row() for r in reports}}


def manifest(args: argparse.Namespace, recipe: dict[str, Any], version: str) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "name": "reranker",
        "version": version,
        "kind": "cross-encoder",
        "base_model": f"all-MiniLM-L6-v2 ({default_model_path()})",
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": args.seed,
        "corpora": [str(p) for p in args.corpora],
        "training": recipe,
    }


def training_data(args: argparse.Namespace, retriever: LocalRetriever, rng: random.Random) -> Any:
    report = CorpusReport()
    documents: list[Document] = list(read_documents(args.corpora, report))
    queries = build_queries(documents, parse_quotas(args.quotas), rng)
    by_id = {d.id: d for d in documents}
    fusion = FusionParams.model_validate_json(args.mine_fusion)
    rank = first_stage_ranker(retriever, args.mine_depth, fusion)
    return build_groups(queries, by_id, rank, args.negatives, rng)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    rng = seed_everything(args.seed)
    retriever = load_retriever(args.index_dir)
    started = time.monotonic()
    groups = training_data(args, retriever, rng)
    mined_s = time.monotonic() - started
    kinds: dict[str, int] = {}
    for g in groups:
        kinds[g.kind] = kinds.get(g.kind, 0) + 1
    print(f"{len(groups)} groups {kinds} mined in {mined_s:.0f}s", flush=True)
    model = base_cross_encoder()
    config = TrainConfig(
        epochs=args.epochs,
        groups_per_batch=args.groups_per_batch,
        learning_rate=args.lr,
        max_length=args.max_length,
        time_budget_s=args.budget_minutes * 60,
        freeze_embeddings=not args.train_embeddings,
    )
    started = time.monotonic()
    steps = train(model, groups, config, rng, log=lambda m: print(m, flush=True))
    train_s = time.monotonic() - started
    args.out.mkdir(parents=True, exist_ok=True)
    staging = args.out / f".reranker-building-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    # Saved with the training length, so serving truncates (and bounds its cost) the same way.
    model.max_seq_length = args.max_length
    model.save_pretrained(str(staging))
    version = f"reranker-{datetime.now(UTC):%Y%m%d}-{weights_hash(staging)[:8]}"
    recipe = {
        "quotas": parse_quotas(args.quotas),
        "groups": len(groups),
        "groups_by_kind": kinds,
        "pairs": len(groups) * (1 + args.negatives),
        "negatives_per_query": args.negatives,
        "negatives_from": (
            f"a random sample of the wrong hits in the top {args.mine_depth} of the hybrid first "
            f"stage ({args.mine_fusion}) over " + ", ".join(map(str, args.index_dir))
        ),
        "loss": "listwise softmax cross-entropy (positive vs its hard negatives)",
        "steps": steps,
        "config": config.__dict__,
        "mining_seconds": round(mined_s),
        "training_seconds": round(train_s),
    }
    data = manifest(args, recipe, version)
    if args.dev is not None:
        data["dev_metrics"] = dev_metrics(staging, retriever, args.dev)
    (staging / MANIFEST_NAME).write_text(json.dumps(data, indent=2) + "\n")
    final = args.out / version
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    print(json.dumps(data, indent=2))
    print(final)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
