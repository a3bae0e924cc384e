"""Retrieval at scale, in one run, on a published shard (the full english corpus by default):

- build: HNSW over the stored vectors and BM25 over the passages (time, size, RSS growth);
  embedding throughput on a sample of the passages (the expensive part of an ingest);
- latency p50/p99, one query at a time and in batches of 32, for raw FAISS (HNSW search of a
  ready vector), raw FAISS plus the query embedding, and the project's path in each mode
  (preprocessing, embedding, dense + keyword, fusion, and the reranker when one is present);
- quality on the dev set: recall@10 of each mode side by side.

Usage: python benchmarks/retrieval_scale.py [--index-dir var/eval-indexes] [--subject english]
           [--queries ../shared/eval/english_reverse_dictionary_dev.jsonl] [--reranker DIR]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import psutil
from common import ROOT, percentile

from retrieval import dense
from retrieval.embedder import SentenceTransformerEmbedder
from retrieval.evaluation import evaluate, read_cases
from retrieval.keyword import KeywordIndex
from retrieval.local import LocalRetriever
from retrieval.pipeline import SearchParams
from retrieval.reranker import CrossEncoderReranker
from retrieval.shard import embedding_text, keyword_text
from retrieval.store import ShardStore


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def timed(label: str, action: Callable[[], object]) -> object:
    before, start = rss_mb(), time.perf_counter()
    result = action()
    print(f"{label:38} {time.perf_counter() - start:8.1f} s   RSS +{rss_mb() - before:7.0f} MB")
    return result


def latencies(action: Callable[[int], object], runs: int) -> list[float]:
    out = []
    for n in range(runs):
        start = time.perf_counter()
        action(n)
        out.append((time.perf_counter() - start) * 1000)
    return out


def row(label: str, ms: list[float], per: int = 1) -> None:
    p50, p99 = percentile(ms, 50), percentile(ms, 99)
    rate = 1000 * per / (sum(ms) / len(ms))
    print(f"{label:38} p50 {p50:8.2f} ms  p99 {p99:8.2f} ms  {rate:8.1f} queries/s")


def build_section(store: ShardStore, subject: str, embedder: SentenceTransformerEmbedder) -> None:
    print("== build ==")
    shard, manifest = store.load(subject)
    print(
        f"{subject}: {manifest.documents} documents, {manifest.passages} passages, "
        f"{manifest.index_kind}"
    )
    vectors = shard.vectors()
    timed(
        "HNSW build (M=32, efConstruction=80)",
        lambda: dense.build_index(vectors, dense.DenseIndexParams(hnsw_threshold=0)),
    )
    texts = [keyword_text(p) for p in shard.passages]
    timed("BM25 build (bm25s, stemmed)", lambda: KeywordIndex.build(texts))
    sample = [embedding_text(p) for p in shard.passages[:: max(1, len(shard.passages) // 2000)]]
    start = time.perf_counter()
    embedder.embed(sample)
    rate = len(sample) / (time.perf_counter() - start)
    print(
        f"{'embedding (MiniLM-L6, CPU)':38} {rate:8.1f} passages/s "
        f"-> {len(shard.passages) / rate / 60:.1f} min for this shard"
    )
    size = sum(f.stat().st_size for f in store.current_dir(subject).rglob("*") if f.is_file())
    print(f"{'published version on disk':38} {size / 2**20:8.0f} MB")


def latency_section(retriever: LocalRetriever, subject: str, queries: list[str], runs: int) -> None:
    print("\n== latency, one query at a time ==")
    index = retriever.shards[subject].dense_index
    index.hnsw.efSearch = 64
    vectors = retriever.embedder.embed(queries[:runs])
    row("raw FAISS search (k=10)", latencies(lambda n: index.search(vectors[n : n + 1], 10), runs))
    row(
        "raw FAISS + query embedding",
        latencies(lambda n: index.search(retriever.embedder.embed([queries[n]]), 10), runs),
    )
    for mode in ("dense", "keyword", "hybrid", *(["rerank"] if retriever.reranker else [])):
        retriever.params = SearchParams.model_validate({"mode": mode})
        row(
            f"project path: {mode}",
            latencies(lambda n: retriever.search(queries[n], subject, 10), runs),
        )
    # No subject: every shard is searched and BM25 hits merge by the shards' union IDF.
    retriever.params = SearchParams.model_validate({"mode": "hybrid"})
    row(
        f"project path: hybrid, {len(retriever.shards)} shards",
        latencies(lambda n: retriever.search(queries[n], None, 10), runs),
    )
    print("\n== latency, batches of 32 ==")
    batches = [queries[i : i + 32] for i in range(0, min(len(queries), runs * 4), 32)]
    row(
        "raw FAISS + embedding (batch 32)",
        latencies(lambda n: index.search(retriever.embedder.embed(batches[n]), 10), len(batches)),
        32,
    )
    retriever.params = SearchParams.model_validate({"mode": "hybrid"})
    row(
        "project path: hybrid (batch 32)",
        latencies(lambda n: retriever.search_many(batches[n], subject, 10), len(batches)),
        32,
    )


def quality_section(retriever: LocalRetriever, queries_file: Path) -> None:
    print("\n== quality on the dev set (recall@10, MRR@10) ==")
    modes = ["dense", "keyword", "hybrid", *(["rerank"] if retriever.reranker else [])]
    for report in evaluate(retriever, read_cases(queries_file), modes, k=10):
        print(
            f"{report.mode:8} recall@10 {report.metrics['recall@10']:.3f}  "
            f"mrr@10 {report.metrics['mrr@10']:.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path, default=ROOT / "var" / "eval-indexes")
    parser.add_argument("--subject", default="english")
    parser.add_argument(
        "--queries",
        type=Path,
        default=ROOT.parent / "shared" / "eval" / "english_reverse_dictionary_dev.jsonl",
    )
    parser.add_argument("--reranker", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)  # as the retriever replicas run
    embedder = SentenceTransformerEmbedder()
    store = ShardStore(args.index_dir)
    build_section(store, args.subject, embedder)
    reranker = CrossEncoderReranker(args.reranker) if args.reranker else None
    retriever = LocalRetriever.from_index_dir(args.index_dir, embedder, reranker)
    queries = [c.query for c in read_cases(args.queries)]
    latency_section(retriever, args.subject, queries, min(args.runs, len(queries)))
    quality_section(retriever, args.queries)


if __name__ == "__main__":
    main()
