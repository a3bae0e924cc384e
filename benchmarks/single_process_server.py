"""The tutor's retrieval path in one plain FastAPI process under uvicorn: the graph's baseline.

Same code as the graph (graphs.single_process wires TutorRouter, TutorService and build_api
over local objects). Usage: python benchmarks/single_process_server.py INDEX_DIR PORT
"""

from __future__ import annotations

import sys
from pathlib import Path

import faiss
import uvicorn

from access.tokens import TokenVerifier
from cluster.settings import Settings
from deployments.api_access import AccessControl
from graphs.single_process import local_api, local_router
from retrieval.embedder import SentenceTransformerEmbedder
from retrieval.store import ShardStore


def main(index_dir: Path, port: int) -> None:
    faiss.omp_set_num_threads(1)  # as in the retriever replicas
    store = ShardStore(index_dir)
    shards = {subject: store.load(subject)[0] for subject in store.subjects()}
    router = local_router(SentenceTransformerEmbedder(), shards, llms={})
    # The same token check as the graph's ingress (the development secret of ./var).
    var = Path(__file__).resolve().parents[1] / "var"
    tokens = Settings(data_dir=var, _env_file=None).token_config()
    verifier = TokenVerifier(tokens) if tokens is not None else None
    app, _ = local_api(router, access=AccessControl(verifier))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
