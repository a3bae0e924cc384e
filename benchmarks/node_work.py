"""What two graph nodes' own work costs in one process, without Serve: the query embedder per
query by batch size (one query alone against batches), and each retriever shard's candidates
per query. Set beside the load run's CPU by node (benchmarks/load/), the difference is what the
graph's handle calls cost (docs/PERFORMANCE.md, "Load at the seed's scale").

Usage: OMP_NUM_THREADS=1 python benchmarks/node_work.py   (one thread, as in a replica; ~30 s,
after `make prepare`)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import faiss
from common import ROOT

from cluster.settings import Settings
from retrieval.embedder import SentenceTransformerEmbedder
from retrieval.store import ShardStore

QUESTIONS = [f"What is the atomic number of element {n}?" for n in range(50)] + [
    f"Who wrote poem number {n}?" for n in range(50)
]


def cpu_ms_per_item(run: Callable[[], object], items: int) -> float:
    start = time.process_time()
    run()
    return (time.process_time() - start) * 1000 / items


def main() -> None:
    faiss.omp_set_num_threads(1)  # as in the retriever replicas
    embedder = SentenceTransformerEmbedder()
    embedder.embed(QUESTIONS[:4])  # warm
    print("embedder, CPU ms a query (batch of 1 is the baseline)")
    alone = 0.0
    for size in (1, 4, 16):
        batches = [QUESTIONS[i : i + size] for i in range(0, len(QUESTIONS), size)]
        cost = cpu_ms_per_item(lambda b=batches: [embedder.embed(x) for x in b], len(QUESTIONS))
        alone = alone or cost
        print(f"  batch {size:>2}: {cost:6.2f}  x{cost / alone:.2f}")
    settings = Settings(data_dir=ROOT / "var", _env_file=None)
    store = ShardStore(Path(settings.index_dir))
    vectors = embedder.embed(QUESTIONS)
    print("shard candidates (k 20 dense + 20 keyword), CPU ms a query")
    for subject in store.subjects():
        shard = store.load(subject)[0]
        shard.candidates(vectors[0], QUESTIONS[0], 20, 20)  # warm
        pairs = list(zip(vectors, QUESTIONS, strict=True))
        cost = cpu_ms_per_item(
            lambda s=shard, p=pairs: [s.candidates(v, q, 20, 20) for v, q in p], len(pairs)
        )
        print(f"  {subject:<10} {cost:6.2f}")


if __name__ == "__main__":
    main()
