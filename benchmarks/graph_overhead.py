"""The retrieval path (question -> sources, no LLM) through the Serve graph vs the same code in
one plain FastAPI process under uvicorn, in one run: p50/p99 latency at each concurrency,
throughput, and server CPU per request. The ratio graph/single is the figure that holds.

Two more rows at concurrency 1 show where the graph's time goes: a search scoped to one subject
(one shard instead of three), and GET /health/live, which no other node serves: the cost of
reaching the ingress at all.

Usage: python benchmarks/graph_overhead.py [--requests 300] [--concurrency 1 16]
Needs `make prepare` (demo indexes and model). Starts its own Ray head on spare ports.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from common import ADMIN, ROOT, percentile, running_graph, tree_cpu_s

from cluster.settings import ServeIngress
from tests.fakes.openai_server import free_port

QUESTIONS = (ROOT / "benchmarks" / "questions.txt").read_text().splitlines()
SEARCH = "/api/v1/retrieval/search"


@dataclass
class Run:
    label: str
    concurrency: int
    latencies_s: list[float]
    wall_s: float
    cpu_s: float
    idle_cpu_s: float  # what the same processes burn in the same wall time with no requests

    def row(self) -> str:
        lat = self.latencies_s
        p50 = statistics.median(lat) * 1000
        p99 = percentile(lat, 99) * 1000
        rps = len(lat) / self.wall_s
        cpu = self.cpu_s / len(lat) * 1000
        net = (self.cpu_s - self.idle_cpu_s) / len(lat) * 1000
        figures = f"{p50:8.1f} {p99:8.1f} {rps:8.1f} {cpu:10.1f} {net:9.1f}"
        return f"{self.label:26} {self.concurrency:5} {len(lat):6} {figures}"


Send = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


def search(subject: str | None = None) -> Send:
    def send(client: httpx.AsyncClient, n: int) -> Awaitable[httpx.Response]:
        body = {"query": QUESTIONS[n % len(QUESTIONS)]}
        return client.post(SEARCH, json=body if subject is None else {**body, "subject": subject})

    return send


def live(client: httpx.AsyncClient, _n: int) -> Awaitable[httpx.Response]:
    return client.get("/health/live")


async def load(url: str, concurrency: int, requests: int, send: Send) -> tuple[list[float], float]:
    latencies: list[float] = []
    queue = list(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    # Both servers check the same admin token: the comparison keeps authentication on both.
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits, headers=ADMIN) as client:

        async def worker() -> None:
            while queue:
                n = queue.pop()
                start = time.perf_counter()
                response = await send(client, n)
                response.raise_for_status()
                latencies.append(time.perf_counter() - start)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, time.perf_counter() - start


def measure(
    label: str, url: str, roots: list[psutil.Process], args: argparse.Namespace
) -> list[Run]:
    asyncio.run(load(url, 4, 40, search()))  # warm-up: batches formed, caches filled
    idle_rate = idle_cpu_rate(roots)
    plan = [(label, c, search()) for c in args.concurrency]
    plan += [(f"{label} subject", 1, search("english")), (f"{label} live", 1, live)]
    runs = []
    for run_label, concurrency, send in plan:
        cpu_before = tree_cpu_s(roots)
        latencies, wall = asyncio.run(load(url, concurrency, args.requests, send))
        cpu = tree_cpu_s(roots) - cpu_before
        runs.append(Run(run_label, concurrency, latencies, wall, cpu, idle_rate * wall))
    return runs


def idle_cpu_rate(roots: list[psutil.Process], seconds: float = 10.0) -> float:
    """CPU-seconds per second the processes use with no requests (Ray's GCS, raylet, metrics
    agents, an idle vLLM engine): subtracted for the net CPU per request."""
    before = tree_cpu_s(roots)
    time.sleep(seconds)
    return (tree_cpu_s(roots) - before) / seconds


def wait_ready(url: str, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            probe = httpx.post(url + SEARCH, json={"query": "carbon"}, timeout=10, headers=ADMIN)
            if probe.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise TimeoutError(f"{url} not ready")


def single_process(index_dir: Path, args: argparse.Namespace) -> list[Run]:
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "single_process_server.py"),
            str(index_dir),
            str(port),
        ],
        env={**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url)
        return measure("single-process", url, [psutil.Process(server.pid)], args)
    finally:
        server.terminate()
        server.wait(timeout=30)


def serve_graph(
    label: str, ingress: ServeIngress, data_dir: Path, args: argparse.Namespace
) -> list[Run]:
    with running_graph(data_dir=data_dir, serve_ingress=ingress) as graph:
        return measure(label, graph.url, graph.processes(), args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var")
    parser.add_argument(
        "--compare-proxy",
        action="store_true",
        help="also the graph behind Serve's Python proxy (TUTOR_SERVE_INGRESS=proxy)",
    )
    args = parser.parse_args()
    data_dir = args.data_dir.resolve()
    graphs: dict[str, ServeIngress] = {"serve-graph": "haproxy"}
    if args.compare_proxy:
        graphs["proxy-graph"] = "proxy"
    runs = single_process(data_dir / "indexes", args)
    for label, ingress in graphs.items():
        runs += serve_graph(label, ingress, data_dir, args)
    header = f"{'p50 ms':>8} {'p99 ms':>8} {'req/s':>8} {'cpu ms/req':>10} {'net of idle':>9}"
    print(f"\n{'path':26} {'conc':>5} {'n':>6} {header}")
    for run in runs:
        print(run.row())
    by_key = {(r.label, r.concurrency): r for r in runs}
    pairs = [("", c) for c in args.concurrency] + [(" subject", 1), (" live", 1)]
    for (suffix, concurrency), name in itertools.product(pairs, graphs):
        single, graph = (
            by_key[(f"single-process{suffix}", concurrency)],
            by_key[(f"{name}{suffix}", concurrency)],
        )
        p50 = statistics.median(graph.latencies_s) / statistics.median(single.latencies_s)
        rps = (len(graph.latencies_s) / graph.wall_s) / (len(single.latencies_s) / single.wall_s)
        cpu = (graph.cpu_s / len(graph.latencies_s)) / (single.cpu_s / len(single.latencies_s))
        net = (graph.cpu_s - graph.idle_cpu_s) / max(single.cpu_s - single.idle_cpu_s, 1e-9)
        net *= len(single.latencies_s) / len(graph.latencies_s)
        print(
            f"ratio {name}/single{suffix:8} at {concurrency:2}: p50 x{p50:.2f}, "
            f"throughput x{rps:.2f}, "
            f"cpu/request x{cpu:.2f} (net of idle x{net:.2f})"
        )


if __name__ == "__main__":
    main()
