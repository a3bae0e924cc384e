"""The model path under load, in one run:

1. Throughput against an upstream with a fixed 300 ms latency (the project's fault server,
   standing in for an OpenAI tier), at concurrency 1, 16 and 64, as a fraction of the ideal
   (concurrency / latency); latency through the graph vs calling the upstream directly with
   the openai client (the difference is the tutor's own cost: retrieval, routing, 3 hops).
2. With the upstream failing 50% of requests at random: share answered by the model, share
   degraded to sources, p95 latency (retries, then the breaker).
3. Time to first token through the graph (local vLLM, streaming) vs directly from vLLM's own
   OpenAI server on the same model and the same prompt.

Usage: python benchmarks/routing.py [--requests 96] [--skip-ttft]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import openai
from common import ADMIN, ROOT, deployment, running_graph, summary_ms

from graphs.single_process import local_search
from models.prompts import SourceText, build_messages
from retrieval.embedder import SentenceTransformerEmbedder
from retrieval.pipeline import SearchParams
from retrieval.store import ShardStore
from tests.fakes.openai_server import FaultServer
from tests.integration import vllm_server as vllm

QUESTIONS = (ROOT / "benchmarks" / "questions.txt").read_text().splitlines()
LATENCY_S = 0.3
MODEL_DIR = ROOT / "var" / "models" / "smollm2-135m-instruct"


def openai_only(config: dict[str, Any]) -> None:
    """Every class to the OpenAI stand-in; no cache (repeats must reach the upstream)."""
    app = config["applications"][0]
    app["args"]["llm_backends"] = {"openai-fast": {"type": "openai", "model": "fake-fast"}}
    app["deployments"] = [d for d in app["deployments"] if d["name"] != "LLM-local"]
    router = deployment(config, "Router")["user_config"]
    router["policy"] = {"routes": {}, "default": ["openai-fast"]}
    router["cache"] = {"enabled": False}


async def fire(url: str, concurrency: int, total: int) -> tuple[list[float], list[dict], float]:
    latencies: list[float] = []
    bodies: list[dict] = []
    queue = list(range(total))
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits, headers=ADMIN) as client:

        async def worker() -> None:
            while queue:
                n = queue.pop()
                start = time.perf_counter()
                response = await client.post(
                    "/api/v1/ai-tutor/query", json={"question": QUESTIONS[n % len(QUESTIONS)]}
                )
                latencies.append(time.perf_counter() - start)
                bodies.append(response.json() | {"http": response.status_code})

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, bodies, time.perf_counter() - start


async def direct(base_url: str, concurrency: int, total: int) -> list[float]:
    client = openai.AsyncOpenAI(base_url=base_url, api_key="fake", max_retries=0)
    latencies: list[float] = []
    queue = list(range(total))

    async def worker() -> None:
        while queue:
            queue.pop()
            start = time.perf_counter()
            stream = await client.chat.completions.create(
                model="fake-fast",
                stream=True,
                messages=[{"role": "user", "content": "What is a noun?"}],
            )
            async for _ in stream:
                pass
            latencies.append(time.perf_counter() - start)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await client.close()
    return latencies


def throughput_and_overhead(fault: FaultServer, url: str, requests: int) -> None:
    print(f"\n== upstream with a fixed {LATENCY_S * 1000:.0f} ms latency ==")
    asyncio.run(fire(url, 4, 16))  # warm-up
    for concurrency in (1, 16, 64):
        total = max(requests, concurrency * 3) if concurrency > 1 else max(requests // 4, 16)
        latencies, bodies, wall = asyncio.run(fire(url, concurrency, total))
        direct_s = asyncio.run(direct(fault.base_url, concurrency, total))
        ok = sum(1 for b in bodies if b.get("status") == "ok")
        ideal, rate = concurrency / LATENCY_S, len(latencies) / wall
        print(
            f"c={concurrency:3}: {rate:6.1f} req/s = {rate / ideal:5.1%} of ideal "
            f"{ideal:.1f}; answered {ok}/{total}"
        )
        print(f"        graph  {summary_ms(latencies)}")
        print(f"        direct {summary_ms(direct_s)}")


def under_failures(fault: FaultServer, url: str, requests: int) -> None:
    print("\n== upstream failing 50% of requests at random ==")
    fault.set(failure_rate=0.5)
    latencies, bodies, _ = asyncio.run(fire(url, 8, requests))
    answered = sum(1 for b in bodies if b.get("status") == "ok")
    degraded = sum(1 for b in bodies if b.get("status") == "degraded")
    print(
        f"answered by the model {answered}/{len(bodies)} ({answered / len(bodies):.1%}), "
        f"sources only {degraded}, other {len(bodies) - answered - degraded}"
    )
    print(f"latency {summary_ms(latencies)}")
    fault.set(failure_rate=0.0)


def prompt_for(question: str) -> list[dict[str, str]]:
    """The messages the graph's router builds for `question` (same retrieval, same prompt)."""
    store = ShardStore(ROOT / "var" / "indexes")
    shards = {s: store.load(s)[0] for s in store.subjects()}
    search = local_search(SentenceTransformerEmbedder(), shards)
    outcome = asyncio.run(search.search(question, None, 5, SearchParams()))
    sources = [SourceText(h.title, h.text) for h in outcome.hits[:3]]
    return [{"role": m.role, "content": m.content} for m in build_messages(question, sources)]


async def ttft_graph(url: str, question: str, runs: int) -> list[float]:
    firsts = []
    async with httpx.AsyncClient(timeout=120, headers=ADMIN) as client:
        for _ in range(runs):
            start = time.perf_counter()
            body = {"question": question, "stream": True}
            async with client.stream("POST", f"{url}/api/v1/ai-tutor/query", json=body) as r:
                async for line in r.aiter_lines():
                    if line.startswith("event: token"):
                        firsts.append(time.perf_counter() - start)
                        break
    return firsts


async def ttft_vllm(base_url: str, messages: list[dict[str, str]], runs: int) -> list[float]:
    client = openai.AsyncOpenAI(base_url=base_url, api_key="unused")
    firsts = []
    for _ in range(runs):
        start = time.perf_counter()
        stream = await client.chat.completions.create(
            model="smollm2", messages=messages, stream=True, max_tokens=160
        )  # type: ignore[arg-type]
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                firsts.append(time.perf_counter() - start)
                break
        await stream.close()
    await client.close()
    return firsts


def time_to_first_token(runs: int) -> None:
    print("\n== time to first token: graph (local vLLM) vs vLLM's own server ==")
    question = "Define photosynthesis"
    messages = prompt_for(question)
    no_cache = {"enabled": False}
    with running_graph(
        edit_config=lambda c: deployment(c, "Router")["user_config"].update({"cache": no_cache})
    ) as graph:
        asyncio.run(ttft_graph(graph.url, question, 2))  # warm-up
        through = asyncio.run(ttft_graph(graph.url, question, runs))
    log = Path("/tmp/bench-vllm.log")
    server, base_url = vllm.start(MODEL_DIR, log)
    try:
        vllm.wait_until_serving(base_url, server, log)
        asyncio.run(ttft_vllm(base_url, messages, 2))
        alone = asyncio.run(ttft_vllm(base_url, messages, runs))
    finally:
        vllm.stop(server)
    print(f"graph      {summary_ms(through)}")
    print(f"vLLM alone {summary_ms(alone)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=96)
    parser.add_argument("--ttft-runs", type=int, default=10)
    parser.add_argument("--skip-ttft", action="store_true")
    args = parser.parse_args()
    fault = FaultServer("fake-fast").start()
    fault.set(latency_s=LATENCY_S)
    env = {"OPENAI_API_KEY": "fake", "OPENAI_BASE_URL": fault.base_url}
    try:
        with running_graph(env=env, edit_config=openai_only) as graph:
            throughput_and_overhead(fault, graph.url, args.requests)
            under_failures(fault, graph.url, args.requests)
    finally:
        fault.stop()
    if not args.skip_ttft:
        time_to_first_token(args.ttft_runs)


if __name__ == "__main__":
    main()
