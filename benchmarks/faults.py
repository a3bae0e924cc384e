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
  local-only (baseline)   `serve deploy` of a policy that routes to the local model only

For each: requests sent, answered ok, degraded, failed (5xx or no response), p50/p95 over the
phase and after its fault, and how each outage phase's p95 compares with the local model's own.

Usage: python benchmarks/faults.py [--seconds 40] [--workers 3]
Needs `make prepare`. Starts its own Ray head, upstream and Redis on spare ports.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from common import running_graph

from tests.fakes.openai_server import FaultServer, free_port
from tests.integration.fault_graph import REMOTE, edit_for_faults
from tests.integration.redis_server import RedisServer
from tests.integration.steady_load import Outcome, steady_load, summarize

Fault = Callable[[float], None]  # given the phase's length, breaks (and maybe heals) something


class Rig:
    """The graph and what the phases break."""

    def __init__(self, url: str, dashboard: str, upstream_port: int, redis: RedisServer) -> None:
        self.url, self.dashboard = url, dashboard
        self.upstream_port, self.redis = upstream_port, redis
        self.upstream: FaultServer | None = None

    def start_upstream(self, **faults: Any) -> None:
        self.stop_upstream()
        self.upstream = FaultServer(port=self.upstream_port).start()
        self.upstream.set(**faults)

    def stop_upstream(self) -> None:
        if self.upstream is not None:
            self.upstream.stop()
            self.upstream = None

    def deploy_local_only(self, config_path: Path) -> None:
        config = yaml.safe_load(config_path.read_text())
        edit_for_faults(config, policy=["local"])
        config_path.write_text(yaml.safe_dump(config))
        command = [str(Path(sys.executable).parent / "serve"), "deploy", str(config_path)]
        subprocess.run([*command, f"--address={self.dashboard}"], check=True, timeout=120)
        time.sleep(5)  # user_config is applied in place within a few seconds


def run_phase(rig: Rig, seconds: float, workers: int, fault: Fault | None) -> list[Outcome]:
    with steady_load(rig.url, workers) as load:
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

    def redis_restart(seconds: float) -> None:
        time.sleep(seconds / 6)
        rig.redis.stop()
        time.sleep(seconds / 3)
        rig.redis.start()

    return [
        ("unreachable-at-deploy", None, 0.0),
        ("upstream-returns", returns, 0.0),
        ("upstream-healthy", None, 0.0),
        ("upstream-killed", killed, 1 / 3),
        ("upstream-hangs", lambda _: rig.start_upstream(mode="hang"), 0.0),
        ("upstream-10s", lambda _: rig.start_upstream(latency_s=10.0), 0.0),
        ("upstream-flaky", lambda _: rig.start_upstream(failure_rate=0.5), 0.0),
        ("redis-restart", redis_restart, 1 / 6),
    ]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args(argv)
    upstream_port = free_port()
    redis = RedisServer(free_port(), Path(tempfile.mkdtemp(prefix="faults-redis-"))).start()
    env = {
        "OPENAI_API_KEY": "sk-fault-benchmark",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{upstream_port}/v1",
        "REDIS_URL": redis.url,
        "CACHE_WARMUP_QUESTIONS": "0",
    }
    rows: list[tuple[str, list[Outcome], float]] = []
    try:
        with running_graph(env=env, edit_config=edit_for_faults) as graph:
            rig = Rig(graph.url, graph.head.dashboard_url, upstream_port, redis)
            for name, fault, share in phases(rig):
                print(f"phase {name} ...", flush=True)
                rows.append((name, run_phase(rig, args.seconds, args.workers, fault), share))
            rig.stop_upstream()
            config_path = graph.head.temp_dir / "serve.yaml"
            rig.deploy_local_only(config_path)
            baseline = run_phase(rig, args.seconds, args.workers, None)
    finally:
        redis.stop()
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
