"""What one Serve handle call costs in CPU on this machine, with no work behind it: the floor
under every hop of the tutor graph. A caller deployment calls a callee deployment with the Ray
settings `tutor up` uses (gRPC between replicas, user code on the replica's event loop), and
the CPU of caller, callee and the rest of Ray (raylet, GCS, controller) is read over each kind.

Kinds: an empty call; a call returning what a retriever shard returns (40 hits with their
passages); a stream of one message; a stream of 20 messages (an unbatched answer). Each kind
runs twice: back to back, `--concurrency` at once (the cheapest a call gets), then paced at
`--rate` calls a second, one at a time as answers arrive under load, where the paced rows
subtract what the same processes burn idle over the same time.

Usage: python benchmarks/handle_calls.py [--calls 600] [--concurrency 8] [--rate 25]  (~4 min)
Starts its own local Ray (no dashboard) and stops it after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import AsyncIterator, Awaitable

import psutil
from common import cpu_by_role, role_of

from cluster.launcher import RAY_DEFAULTS, RAY_ENV
from retrieval.keyword import TermStats
from retrieval.shard import Hit, ShardCandidates

PASSAGE = "An atom is the smallest unit of a chemical element. " * 16  # ~850 chars, as in a shard


def shard_answer() -> ShardCandidates:
    hits = [Hit(f"doc-{i}", "chemistry", f"Title {i}", PASSAGE, 1.0 / (i + 1)) for i in range(20)]
    terms = [{"atom": 1.5, "element": 0.7} for _ in hits]
    return ShardCandidates(
        "chemistry", hits, list(hits), "v1", "e1", terms, TermStats(1000, {"atom": 12})
    )


class Callee:
    def __init__(self) -> None:
        self._answer = shard_answer()

    async def empty(self) -> None:
        return None

    async def candidates(self) -> ShardCandidates:
        return self._answer

    async def stream(self, messages: int) -> AsyncIterator[str]:
        for i in range(messages):
            yield f"token {i} "


class Caller:
    def __init__(self, callee: object) -> None:
        self._callee = callee
        self._streaming = callee.options(stream=True)  # type: ignore[attr-defined]

    async def _once(self, kind: str) -> None:
        if kind == "empty":
            await self._callee.empty.remote()  # type: ignore[attr-defined]
        elif kind == "shard answer":
            await self._callee.candidates.remote()  # type: ignore[attr-defined]
        else:
            messages = int(kind.split()[1])
            async for _ in self._streaming.stream.remote(messages):
                pass

    async def run(self, kind: str, calls: int, concurrency: int, rate: float | None) -> None:
        """`calls` calls, `concurrency` at a time, back to back; or, with `rate`, one call
        started every 1/rate s whatever is in flight (as answers arrive under load)."""
        if rate is not None:
            started = []
            for _ in range(calls):
                started.append(asyncio.ensure_future(self._once(kind)))
                await asyncio.sleep(1 / rate)
            await asyncio.gather(*started)
            return
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                await self._once(kind)

        await asyncio.gather(*(one() for _ in range(calls)))


KINDS = ["empty", "shard answer", "stream 1", "stream 20"]
ROLES = ["caller", "callee", "rest of Ray", "this driver"]


def cpu_s_by_role(driver: psutil.Process) -> dict[str, float]:
    """CPU-seconds of this driver and the local Ray it started, by ROLES."""
    spent = dict.fromkeys(ROLES, 0.0)
    driver_role = role_of(driver.cmdline())
    for process_role, seconds in cpu_by_role([driver]).items():
        if process_role.endswith(":Caller"):
            spent["caller"] += seconds
        elif process_role.endswith(":Callee"):
            spent["callee"] += seconds
        elif process_role == driver_role:
            spent["this driver"] += seconds
        else:
            spent["rest of Ray"] += seconds
    return spent


async def cpu_ms_per_call(
    driver: psutil.Process, calls: int, work: Awaitable[object]
) -> dict[str, float]:
    before = cpu_s_by_role(driver)
    await work
    after = cpu_s_by_role(driver)
    return {role: (after[role] - before[role]) * 1000 / calls for role in ROLES}


def row(label: str, spent: dict[str, float], idle: dict[str, float] | None = None) -> str:
    net = {role: ms - (idle or {}).get(role, 0.0) for role, ms in spent.items()}
    cells = " ".join(f"{ms:12.2f}" for ms in net.values())
    return f"{label:32} {cells} {sum(net.values()):8.2f}"


async def measure(calls: int, concurrency: int, rate: float) -> None:
    import ray
    from ray import serve

    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False)
    callee = serve.deployment(ray_actor_options={"num_cpus": 0.05})(Callee)
    caller = serve.deployment(ray_actor_options={"num_cpus": 0.05})(Caller)
    handle = serve.run(caller.bind(callee.bind()), name="calls", route_prefix=None)
    me = psutil.Process()
    for kind in KINDS:  # warm every path once
        await handle.run.remote(kind, 50, concurrency, None)
    print(f"CPU ms per call, {calls} calls a row")
    print(f"{'kind':32} " + " ".join(f"{role:>12}" for role in ROLES) + f" {'total':>8}")
    for kind in KINDS:
        work = handle.run.remote(kind, calls, concurrency, None)
        spent = await cpu_ms_per_call(me, calls, work)
        print(row(f"{kind}, {concurrency} at once", spent))
    idle = await cpu_ms_per_call(me, calls, asyncio.sleep(calls / rate))
    print(row(f"(idle for {calls / rate:.0f} s)", idle))
    for kind in KINDS:
        spent = await cpu_ms_per_call(me, calls, handle.run.remote(kind, calls, 1, rate))
        print(row(f"{kind}, {rate:g}/s, net of idle", spent, idle))
    ray.shutdown()  # the whole local cluster, Serve with it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate", type=float, default=25.0, help="paced calls a second")
    args = parser.parse_args()
    os.environ.update({**RAY_DEFAULTS, **RAY_ENV})  # before Ray starts: replicas inherit it
    # Serve's handles then route on the caller's own event loop, so drive from one too.
    asyncio.run(measure(args.calls, args.concurrency, args.rate))


if __name__ == "__main__":
    main()
