"""The tutor's page and API in this process, on a loopback port: for the browser tests, and for
working on the page (`python -m tests.fakes.web_app` prints its URL and tokens).

The same `build_api` the Serve ingress runs, over real demo-curriculum shards embedded by the
hashing embedder and answered by `EchoSourceBackend` (no model, no Ray: it starts in seconds).
With a PostgreSQL URL, profiles, practice progress, the request log, feedback, past sessions and
the teacher overview work as in the graph; without one, those calls answer 503 as they do in a
graph without a database.
"""

from __future__ import annotations

import argparse
import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterable

import uvicorn
from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool

from access.quotas import MemoryQuotaStore, Quotas
from access.tokens import TokenConfig, TokenVerifier, mint
from cluster.observability import health
from cluster.observability.metrics import PrometheusExporter, TutorMetrics
from cluster.storage.db import Feedback, RequestLog, SessionArchive, Users, open_pool
from cluster.storage.history import History
from cluster.storage.migrate import migrate
from conversation.sessions import MemorySessionStore
from deployments.api import build_api
from deployments.api_access import AccessControl
from graphs.single_process import local_router
from models.backend import GenerationChunk, GenerationRequest, LLMBackend
from practice.store import MemoryPracticeStore
from retrieval.corpus import Document
from retrieval.dense import DenseIndexParams
from retrieval.ingest import build_shard
from retrieval.shard import Shard
from service.practice import Practice
from service.router import TutorRouter
from service.tutor_service import TutorService
from tests.conftest import read_docs
from tests.fakes.hashing_embedder import HashingEmbedder
from tests.fakes.llm import EchoSourceBackend
from tests.fakes.openai_server import free_port

TOKENS = TokenConfig(issuer="ai-tutor", audience="ai-tutor", secret="web-app-" + "s" * 32)
# Enough of each demo subject to search, small enough to embed in ~1 s; with the entries the
# tests and screenshots ask about.
SLICES = {"chemistry": None, "computing": 300, "english": 300}
ALSO = {"computing:recursion", "english:noun", "english:verb"}


def demo_shards(extra: Iterable[dict[str, str]] = ()) -> dict[str, Shard]:
    """The demo curriculum's shards (slices of the big ones), with `extra` documents added to
    their subjects' shards (a test's own passage, such as one that carries markup)."""
    docs = {}
    for subject, n in SLICES.items():
        rows = read_docs(subject)
        docs[subject] = rows[:n] + [d for d in rows[n or len(rows) :] if d["id"] in ALSO]
    for doc in extra:
        docs.setdefault(doc["subject"], []).append(doc)
    embedder = HashingEmbedder()
    return {
        subject: build_shard(
            subject, [Document.model_validate(d) for d in rows], embedder, DenseIndexParams(), False
        )
        for subject, rows in docs.items()
    }


class PacedBackend(LLMBackend):
    """Another backend's answer with a pause before each chunk, as a model streams it: a
    page that waited for the whole answer would show nothing until the end."""

    def __init__(self, inner: LLMBackend, pause_s: float = 0.03) -> None:
        self.inner = inner
        self.info = inner.info
        self.pause_s = pause_s

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        async for chunk in self.inner.stream(request):
            await asyncio.sleep(self.pause_s)
            yield chunk

    async def check(self) -> None:
        await self.inner.check()


def token(user_id: str, role: str = "student", classes: tuple[str, ...] = ()) -> str:
    return mint(TOKENS, user_id, role, 3600, classes)  # type: ignore[arg-type]


class WebApp:
    """Serves the app under uvicorn in a daemon thread with its own event loop (the database
    pool must be opened in the loop that uses it)."""

    def __init__(
        self,
        shards: dict[str, Shard],
        backend: LLMBackend | None = None,
        database_url: str | None = None,
        auth: bool = True,
    ) -> None:
        self.shards = shards
        self.backend = backend or EchoSourceBackend()
        self.database_url = database_url
        self.access = AccessControl(
            TokenVerifier(TOKENS) if auth else None, Quotas(MemoryQuotaStore())
        )
        self.port = free_port()
        self._server: uvicorn.Server | None = None
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="web-app")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WebApp:
        if self.database_url is not None:
            migrate(self.database_url)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not (self._server and self._server.started) and time.monotonic() < deadline:
            if self._failed is not None:
                raise RuntimeError("the web app did not start") from self._failed
            time.sleep(0.05)
        if not (self._server and self._server.started):
            raise RuntimeError(f"the web app did not start within 30 s on port {self.port}")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to start(), which is waiting for it
            self._failed = error
            raise

    async def _serve(self) -> None:
        pool = None
        if self.database_url is not None:
            pool = open_pool(self.database_url, 4)
            await pool.open()
        app, router = self._app(pool)
        # The first search compiles BM25's scorer (numba, ~8 s here): done before serving, so
        # no test's first question waits for it.
        await router.search("warm up", None, 1)
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        try:
            await self._server.serve()
        finally:
            if pool is not None:
                await pool.close()

    def _app(self, pool: AsyncConnectionPool | None) -> tuple[FastAPI, TutorRouter]:
        metrics = TutorMetrics(PrometheusExporter())
        router = local_router(
            HashingEmbedder(), self.shards, {"local": self.backend}, metrics=metrics
        )
        users = Users(pool) if pool else None
        service = TutorService(
            router,
            MemorySessionStore(ttl_s=3600),
            users,
            RequestLog(pool) if pool else None,
            metrics,
            Feedback(pool) if pool else None,
            SessionArchive(pool) if pool else None,
            practice=Practice(MemoryPracticeStore(ttl_s=86_400), router.search, users),
            history=History(pool) if pool else None,
        )

        async def report() -> dict[str, object]:
            return health.report_of({"session_store": {"status": "healthy", "backend": "memory"}})

        assert isinstance(metrics.exporter, PrometheusExporter)
        return build_api(service, report, metrics.exporter.text, self.access), router


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--database-url", help="PostgreSQL for feedback, profiles, progress")
    parser.add_argument("--no-auth", action="store_true", help="as AUTH_MODE=off")
    args = parser.parse_args()
    app = WebApp(demo_shards(), database_url=args.database_url, auth=not args.no_auth)
    app.port = args.port
    app.start()
    print(f"open {app.url}/")
    if not args.no_auth:
        print("student amina (7b):", token("amina", classes=("7b",)))
        print("teacher ms-ade (7b):", token("ms-ade", "teacher", ("7b",)))
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        app.stop()


if __name__ == "__main__":
    main()
