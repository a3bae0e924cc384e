"""What the answer check costs: the same questions through the ingress's own app with the check
off and on (`flag`: check only, no repair), interleaved in one run; and the time to the first
streamed token both ways (the check runs after the last token, so it should not move).

The app is `build_api` over in-process nodes (a hashing embedder, a fake model that echoes its
first source), driven through httpx's ASGI transport: no network and no model time, so what
differs is only the check. Questions: data/eval/answers.test.jsonl.

Usage: python benchmarks/grounding.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time

import httpx
from common import ROOT

from graphs.single_process import local_api, local_router
from retrieval.corpus import Document
from retrieval.dense import DenseIndexParams
from retrieval.ingest import build_shard
from tests.conftest import read_docs
from tests.fakes.hashing_embedder import HashingEmbedder
from tests.fakes.llm import EchoSourceBackend

QUERY = "/api/v1/ai-tutor/query"
MODES = ("off", "flag")


def app() -> httpx.AsyncClient:
    shards = {}
    for subject in ("chemistry", "computing", "english"):
        docs = [Document.model_validate(d) for d in read_docs(subject)]
        shards[subject] = build_shard(subject, docs, HashingEmbedder(), DenseIndexParams(), False)
    router = local_router(HashingEmbedder(), shards, {"local": EchoSourceBackend()})
    api, _ = local_api(router, access=None)  # AUTH_MODE=off: an admin, who may set the mode
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://tutor")


async def answered(client: httpx.AsyncClient, question: str, mode: str) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    response = await client.post(QUERY, json={"question": question, "grounding": mode})
    assert response.status_code == 200, response.text
    return time.perf_counter() - wall, time.process_time() - cpu


async def first_token(client: httpx.AsyncClient, question: str, mode: str) -> float:
    start = time.perf_counter()
    body = {"question": question, "grounding": mode, "stream": True}
    async with client.stream("POST", QUERY, json=body) as response:
        async for line in response.aiter_lines():
            if line.startswith("event: token"):
                return time.perf_counter() - start
    raise AssertionError(f"no token for {question!r}")


async def run(rounds: int) -> None:
    lines = (ROOT / "data/eval/answers.test.jsonl").read_text().splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    client = app()
    for mode in MODES:  # warm both paths
        for question in questions[:10]:
            await answered(client, question, mode)
    whole: dict[str, list[tuple[float, float]]] = {m: [] for m in MODES}
    ttft: dict[str, list[float]] = {m: [] for m in MODES}
    for _ in range(rounds):
        for question in questions:
            for mode in MODES:  # interleaved: the machine's noise falls on both alike
                whole[mode].append(await answered(client, question, mode))
                ttft[mode].append(await first_token(client, question, mode))
    print(f"questions: {len(questions)} x {rounds} rounds per mode")
    print("| answer check | p50 answer ms | CPU ms per answer | p50 first token ms |")
    print("| --- | ---: | ---: | ---: |")
    rows = {}
    for mode in MODES:
        p50 = statistics.median(w for w, _ in whole[mode]) * 1000
        cpu = statistics.mean(c for _, c in whole[mode]) * 1000
        first = statistics.median(ttft[mode]) * 1000
        rows[mode] = (p50, cpu, first)
        print(f"| {mode} | {p50:.3f} | {cpu:.3f} | {first:.3f} |")
    diff = [rows["flag"][i] - rows["off"][i] for i in range(3)]
    print(f"| difference | {diff[0]:+.3f} | {diff[1]:+.3f} | {diff[2]:+.3f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(run(parser.parse_args(sys.argv[1:]).rounds))
