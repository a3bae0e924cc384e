"""Maintenance of the published shards: compaction and retuning of the index parameters.

For each shard: drop tombstoned rows (documents updated or deleted since the last full build)
by publishing a compacted version, re-choosing exact or HNSW search by size; then measure the
smallest HNSW efSearch that reaches the target recall against exact search, to put in the
shard's `user_config` (`ef_search`). Safe to run on a live cluster: shards pick up the new
version by themselves, and the old one keeps serving until then.

Usage: python scripts/optimize_vector_store.py [--index-dir DIR] [--subject S ...]
           [--target-recall 0.95] [--min-tombstones 1] [--dry-run]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cluster.settings import get_settings  # noqa: E402
from retrieval import dense  # noqa: E402
from retrieval.lifecycle import compact  # noqa: E402
from retrieval.store import ShardStore  # noqa: E402


def optimize(store: ShardStore, subject: str, args: argparse.Namespace) -> None:
    shard, manifest = store.load(subject)
    print(
        f"{subject}: {manifest.version_name}, {manifest.documents} documents, "
        f"{manifest.passages} passages, {manifest.tombstones} tombstones, "
        f"{manifest.index_kind}"
    )
    params = dense.DenseIndexParams()
    wanted = dense.choose_kind(manifest.passages - manifest.tombstones, params)
    needs = manifest.tombstones >= args.min_tombstones or wanted != manifest.index_kind
    if needs and not args.dry_run:
        manifest = compact(store, subject, params)
        shard, _ = store.load(subject)
        print(f"  compacted -> {manifest.version_name} ({manifest.index_kind})")
    ef, recall = dense.tune_ef_search(shard.dense_index, shard.vectors(), args.target_recall)
    if ef:
        print(
            f"  ef_search {ef} reaches recall@10 {recall:.3f} (target {args.target_recall}); "
            f"set it in Retriever-{subject}'s user_config"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--subject", action="append", default=None)
    parser.add_argument("--target-recall", type=float, default=0.95)
    parser.add_argument("--min-tombstones", type=int, default=1)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    store = ShardStore(args.index_dir or get_settings().index_dir)
    for subject in args.subject or store.subjects():
        optimize(store, subject, args)


if __name__ == "__main__":
    main()
