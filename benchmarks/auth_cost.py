"""What authentication and a quota check cost per question: the same app, the same requests,
with tokens and quotas on (HS256 verification, one Lua script in the real Redis) and off
(AUTH_MODE=off), interleaved in one run. Prints p50 latency and CPU per request of each, and
the difference: the figure docs/PERFORMANCE.md quotes.

The app is the ingress's own (`build_api`) over in-process nodes (a hashing embedder, a fake
model that echoes its first source), driven through httpx's ASGI transport: no network and no
model time, so what differs between the two is only the access path.

Usage: python benchmarks/auth_cost.py [--requests 2000] [--redis redis://127.0.0.1:6379/15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid

import httpx
from common import ROOT

from access.quotas import QuotaConfig, QuotaPolicy, Quotas, RedisQuotaStore
from access.tokens import TokenConfig, TokenVerifier, mint
from cluster.redis_client import redis_client
from deployments.api_access import AccessConfig, AccessControl
from graphs.single_process import local_api, local_router
from retrieval.corpus import Document
from retrieval.dense import DenseIndexParams
from retrieval.ingest import build_shard
from tests.conftest import read_docs
from tests.fakes.hashing_embedder import HashingEmbedder
from tests.fakes.llm import EchoSourceBackend

CONFIG = TokenConfig(issuer="ai-tutor", audience="ai-tutor", secret="b" * 40)
UNLIMITED = QuotaPolicy(
    burst_per_minute=10**9, questions_per_day=10**9, tokens_per_day=10**12
)  # every request is checked and counted, none refused


def app_with(access: AccessControl | None) -> httpx.AsyncClient:
    docs = [Document.model_validate(d) for d in read_docs("chemistry")]
    shard = build_shard("chemistry", docs, HashingEmbedder(), DenseIndexParams(), False)
    router = local_router(HashingEmbedder(), {"chemistry": shard}, {"local": EchoSourceBackend()})
    app, _ = local_api(router, access=access)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://tutor")


async def timed(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    response = await client.post(
        "/api/v1/ai-tutor/query", json={"question": "What is carbon?"}, headers=headers
    )
    assert response.status_code == 200, response.text
    return time.perf_counter() - wall, time.process_time() - cpu


async def run(requests: int, redis_url: str) -> None:
    client = redis_client(redis_url)
    quotas = Quotas(
        RedisQuotaStore(client, f"bench:quota:{uuid.uuid4().hex}:"),
        QuotaConfig(roles={"student": UNLIMITED}),
    )
    guarded = AccessControl(TokenVerifier(CONFIG), quotas)
    guarded.configure(AccessConfig(quotas=quotas.config))
    token = {"Authorization": f"Bearer {mint(CONFIG, 'amina', 'student', 3600)}"}
    clients = {"off": app_with(None), "on": app_with(guarded)}
    headers = {"off": {}, "on": token}
    samples: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
    for name in samples:  # warm both paths (first-call imports, Redis script load)
        for _ in range(20):
            await timed(clients[name], headers[name])
    for _ in range(requests):
        for name in samples:  # interleaved: the machine's noise falls on both alike
            samples[name].append(await timed(clients[name], headers[name]))
    report(samples)
    await client.aclose()


def report(samples: dict[str, list[tuple[float, float]]]) -> None:
    rows = {
        name: (
            statistics.median(w for w, _ in values) * 1000,
            statistics.mean(c for _, c in values) * 1000,
        )
        for name, values in samples.items()
    }
    print(f"requests per mode: {len(samples['on'])}")
    print("| access | p50 latency ms | CPU ms per request |")
    print("| --- | ---: | ---: |")
    for name, (p50, cpu) in rows.items():
        label = "tokens + quota (Redis)" if name == "on" else "AUTH_MODE=off"
        print(f"| {label} | {p50:.3f} | {cpu:.3f} |")
    print(
        f"| difference | {rows['on'][0] - rows['off'][0]:+.3f} | "
        f"{rows['on'][1] - rows['off'][1]:+.3f} |"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args(sys.argv[1:])
    assert ROOT.is_dir()
    asyncio.run(run(args.requests, args.redis))
