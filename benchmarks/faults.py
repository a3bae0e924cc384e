"""Outages through the deployed graph, under a steady load, longer than the test suite runs them.

One graph (serve_config.yaml edited by `tests/integration/fault_graph.py`: an OpenAI tier first
in every route, the local vLLM model behind it), an OpenAI-compatible fake upstream that is
down when the graph deploys, and a Redis of its own. Phases, in order, each under load:

  unreachable-at-deploy   the upstream has never been up
  upstream-returns        the upstream starts: seconds until its first answer
  upstream-healthy        the remote tier serving
  upstream-killed         stopped a third of the way in
  upstream-hangs          accepts, never answers
  upstream-10s            answers after 10 s
  upstream-flaky          500 for half the calls, at random
  redis-restart           Redis stopped a sixth of the way in, started at half-time
  postgres-restart        PostgreSQL (its own cluster) likewise
  kill-<deployment>       `ray.kill` of one replica of Ingress, Router, Embedder, a shard,
                          the OpenAI tier's node, a sixth of the way in
  serve-deploy            `serve deploy` of a changed router user_config
  local-only (baseline)   `serve deploy` of a policy that routes to the local model only

For each: requests sent, answered ok, degraded, failed (5xx or no response), p50/p95 over the
phase and after its fault, and how each outage phase's p95 compares with the local model's own.

Usage: python benchmarks/faults.py [--seconds 40] [--workers 3] [--only upstream-hangs,...]
Needs `make prepare`. Starts its own Ray head, upstream and Redis on spare ports.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from common import ADMIN, ROOT, Graph, deployment, running_graph

from cluster.launcher import RAY_DEFAULTS, RAY_ENV
from cluster.storage.migrate import migrate
from tests.fakes.openai_server import UpstreamProcess, free_port
from tests.integration.fault_graph import REMOTE, edit_for_faults
from tests.integration.postgres_server import PostgresServer
from tests.integration.redis_server import RedisServer
from tests.integration.steady_load import Outcome, steady_load, summarize

Fault = Callable[[float], None]  # given the phase's length, breaks (and maybe heals) something


class Rig:
    """The graph and what the phases break."""

    def __init__(
        self,
        graph: Graph,
        upstream_port: int,
        redis: RedisServer,
        postgres: PostgresServer,
    ) -> None:
        self.url, self.head = graph.url, graph.head
        self.dashboard = graph.head.dashboard_url
        self.upstream_port, self.redis, self.postgres = upstream_port, redis, postgres
        self.upstream: UpstreamProcess | None = None

    def kill(self, deployment: str) -> None:
        address = f"127.0.0.1:{self.head.gcs_port}"
        command = [sys.executable, "-m", "tests.integration.kill_replica", address, deployment]
        env = {**RAY_DEFAULTS, **os.environ, **RAY_ENV}  # a loopback driver, as the head is
        subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=60)

    def deploy(self, config: dict[str, Any]) -> None:
        path = self.head.temp_dir / "serve.yaml"
        path.write_text(yaml.safe_dump(config))
        command = [str(Path(sys.executable).parent / "serve"), "deploy", str(path)]
        subprocess.run([*command, f"--address={self.dashboard}"], check=True, timeout=120)

    def start_upstream(self, **faults: Any) -> None:
        self.stop_upstream()
        self.upstream = UpstreamProcess(port=self.upstream_port).start()
        self.upstream.set(**faults)

    def stop_upstream(self) -> None:
        if self.upstream is not None:
            self.upstream.kill()
            self.upstream = None

    def config(self, policy: list[str] | None = None, max_tokens: int = 48) -> dict[str, Any]:
        config: dict[str, Any] = yaml.safe_load((self.head.temp_dir / "serve.yaml").read_text())
        edit_for_faults(config, policy=policy)
        deployment(config, "Router")["user_config"]["generation"]["max_tokens"] = max_tokens
        return config


# Every phase and the baseline start a new session every few questions, so that the local
# model's prompts are as long in an outage as in the baseline. (With one session a worker, the
# phases after fast remote answers carried full 768-token windows and a slower local model.)
SESSION_QUESTIONS = 4


def run_phase(rig: Rig, seconds: float, workers: int, fault: Fault | None) -> list[Outcome]:
    with steady_load(rig.url, workers, ADMIN, SESSION_QUESTIONS) as load:
        if fault is not None:
            fault(seconds)
        while load.elapsed() < seconds:
            time.sleep(0.2)
        return load.stop()


def report(name: str, outcomes: list[Outcome], fault_at: float, local_p95: float | None) -> str:
    whole, after = summarize(outcomes), summarize([o for o in outcomes if o.at >= fault_at])
    remote = [o.at for o in outcomes if o.backend == REMOTE]
    first_remote = f"{remote[0]:5.1f}" if remote else "    -"
    versus = "" if local_p95 is None else f"{whole.p95_s - local_p95:+6.2f}"
    return (
        f"| {name:<22} | {whole.sent:4d} | {whole.ok:4d} | {whole.degraded:3d} | "
        f"{whole.failed:3d} | {whole.p50_s:5.2f} | {whole.p95_s:5.2f} | {after.p95_s:5.2f} | "
        f"{versus:>6} | {first_remote} | {whole.backends} |"
    )


def phases(rig: Rig) -> list[tuple[str, Fault | None, float]]:
    """(name, fault, when the fault starts as a share of the phase)."""

    def returns(_: float) -> None:
        rig.start_upstream()

    def killed(seconds: float) -> None:
        time.sleep(seconds / 3)
        rig.stop_upstream()

    def restart(server: RedisServer | PostgresServer) -> Fault:
        def fault(seconds: float) -> None:
            time.sleep(seconds / 6)
            server.stop()
            time.sleep(seconds / 3)
            server.start()

        return fault

    def kill(name: str) -> Fault:
        def fault(seconds: float) -> None:
            time.sleep(seconds / 6)
            rig.kill(name)

        return fault

    def redeploy(seconds: float) -> None:
        time.sleep(seconds / 6)
        rig.deploy(rig.config(max_tokens=40))

    def healthy_upstream(_: float) -> None:
        rig.start_upstream()

    return [
        ("unreachable-at-deploy", None, 0.0),
        ("upstream-returns", returns, 0.0),
        ("upstream-healthy", None, 0.0),
        ("upstream-killed", killed, 1 / 3),
        ("upstream-hangs", lambda _: rig.start_upstream(mode="hang"), 0.0),
        ("upstream-10s", lambda _: rig.start_upstream(latency_s=10.0), 0.0),
        ("upstream-flaky", lambda _: rig.start_upstream(failure_rate=0.5), 0.0),
        ("upstream-back", healthy_upstream, 0.0),
        ("redis-restart", restart(rig.redis), 1 / 6),
        ("postgres-restart", restart(rig.postgres), 1 / 6),
        *[
            (f"kill-{name}", kill(name), 1 / 6)
            for name in ("Ingress", "Router", "Embedder", "Retriever-chemistry", f"LLM-{REMOTE}")
        ],
        ("serve-deploy", redeploy, 1 / 6),
    ]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--only", help="comma-separated phase names (the baseline always runs)")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    upstream_port = free_port()
    scratch = Path(tempfile.mkdtemp(prefix="faults-"))
    redis = RedisServer(free_port(), scratch).start()
    postgres = PostgresServer.in_tmp(free_port()).init().start()
    migrate(postgres.url)
    env = {
        "OPENAI_API_KEY": "sk-fault-benchmark",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{upstream_port}/v1",
        "REDIS_URL": redis.url,
        "DATABASE_URL": postgres.url,
        "CACHE_WARMUP_QUESTIONS": "0",
    }
    rows: list[tuple[str, list[Outcome], float]] = []
    try:
        with running_graph(env=env, edit_config=edit_for_faults) as graph:
            rig = Rig(graph, upstream_port, redis, postgres)
            for name, fault, share in phases(rig):
                if only is not None and name not in only:
                    continue
                print(f"phase {name} ...", flush=True)
                rows.append((name, run_phase(rig, args.seconds, args.workers, fault), share))
            rig.stop_upstream()
            rig.deploy(rig.config(policy=["local"]))
            time.sleep(5)  # user_config is applied in place within a few seconds
            baseline = run_phase(rig, args.seconds, args.workers, None)
    finally:
        redis.stop()
        postgres.stop()
        postgres.remove()
    local_p95 = summarize(baseline).p95_s
    print(
        "| phase | sent | ok | deg | fail | p50 s | p95 s | p95 after fault | "
        "p95 - local p95 | first remote answer (s) | answered by |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for name, outcomes, share in rows:
        print(report(name, outcomes, share * args.seconds, local_p95))
    print(report("local-only (baseline)", baseline, 0.0, None))


if __name__ == "__main__":
    main(sys.argv[1:])
