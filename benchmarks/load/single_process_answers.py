"""The tutor's answer path in one plain FastAPI process under uvicorn: the load benchmark's
baseline (benchmarks/load/run.py).

The same code as the graph (`graphs.single_process`: TutorRouter and TutorService over local
objects) doing the same work per question: the router's `user_config` from the deployed serve
config, the same OpenAI tiers and upstream, tokens and quotas, sessions in Redis and the
profile and request log in PostgreSQL, built by the same functions as the ingress's.
Environment: REDIS_URL, DATABASE_URL, OPENAI_API_KEY, OPENAI_BASE_URL, as for the graph.

Usage: python benchmarks/load/single_process_answers.py SPEC_JSON PORT
  SPEC_JSON: {"router": <the Router's user_config>, "backends": {name: OpenAISpec}}
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import faiss
import uvicorn
from pydantic import TypeAdapter

from cluster.settings import Settings
from cluster.storage.db import RequestLog, Users, open_pool
from deployments.ingress import access_control, session_store, token_counter
from deployments.llm import backend_env
from graphs.single_process import local_api, local_router
from models.registry import build_backend
from models.specs import BackendSpec
from retrieval.embedder import SentenceTransformerEmbedder
from retrieval.store import ShardStore
from service.router import RouterConfig

ROOT = Path(__file__).resolve().parents[2]


async def serve(spec: dict[str, Any], port: int) -> None:
    settings = Settings(data_dir=ROOT / "var", _env_file=None)
    faiss.omp_set_num_threads(1)  # as in the retriever replicas
    store = ShardStore(settings.index_dir)
    shards = {subject: store.load(subject)[0] for subject in store.subjects()}
    specs = TypeAdapter(dict[str, BackendSpec]).validate_python(spec["backends"])
    llms = {name: build_backend(s, backend_env(settings)) for name, s in specs.items()}
    config = RouterConfig.model_validate(spec["router"])
    router = local_router(SentenceTransformerEmbedder(), shards, llms, config=config)
    assert settings.database_url is not None, "DATABASE_URL: the graph keeps a request log"
    pool = open_pool(str(settings.database_url), settings.db_pool_max_size)
    await pool.open(wait=False)
    app, _ = local_api(
        router,
        session_store(settings),
        access_control(settings),
        Users(pool),
        RequestLog(pool),
        token_counter(settings),
    )
    options = {"log_level": "warning", "access_log": False}  # as the graph: no access log
    await uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options)).serve()


if __name__ == "__main__":
    asyncio.run(serve(json.loads(Path(sys.argv[1]).read_text()), int(sys.argv[2])))
