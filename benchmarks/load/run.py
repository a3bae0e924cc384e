"""Load at the seed's scale (issue 17): simulated students (locust, `locustfile.py`) against the
tutor graph, its OpenAI tiers answering from a fake upstream after a fixed 300 ms, and the same
uncached work against the same code in one process (`graphs/single_process.py`), in one run.

Steps, each `--measure` seconds after the students have spawned (locust's --reset-stats):
  graph, mixed       the response cache on (Redis), flushed before each step
  graph, uncached    the same students with the cache off (`serve deploy` of the router's
                     user_config, applied in place)
  single, uncached   `single_process_answers.py` under uvicorn, the same router config
for each of `--users`. Reported per step: load averages before it, answers/s, p50/p95/p99,
errors, cache hit rate, and CPU (psutil) of the server (Ray's processes, or the one process),
of locust and of the upstream, each in cores; answers/s per server core, and the ratio of the
graph's to the single process's on the uncached path.

Usage: python benchmarks/load/run.py [--users 100 300 1000] [--measure 60] [--think 20 60]
Environment: the TUTOR_* ports of the head (as `tutor up`), REDIS_URL (flushed!) and a
PostgreSQL server for a throwaway database (--postgres). Needs `make prepare`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
import redis
import yaml

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
from common import ROOT, admin_headers, cpu_by_role, deployment, tree_cpu_s, wait_ready  # noqa: E402
from report import Step, table  # noqa: E402
from workload import read_stats  # noqa: E402

from access.tokens import mint  # noqa: E402
from cluster import launcher  # noqa: E402
from cluster.settings import Settings  # noqa: E402
from cluster.storage.migrate import migrate  # noqa: E402
from tests.fakes.openai_server import UpstreamProcess, free_port  # noqa: E402

LATENCY_S = 0.3
TIERS = ("openai-fast", "openai-strong")
ADMIN = admin_headers()


@dataclass
class Rig:
    args: argparse.Namespace
    out: Path
    upstream: UpstreamProcess
    database_url: str
    tokens_file: Path

    def env(self) -> dict[str, str]:
        """For the head (every replica) and the single process: this checkout's code before
        the venv's editable install, which may be another worktree's."""
        return {
            "PYTHONPATH": str(ROOT),
            "RAY_agent_register_timeout_ms": "300000",  # slow agents on a loaded machine
            "REDIS_URL": self.args.redis_url,
            "DATABASE_URL": self.database_url,
            "OPENAI_API_KEY": "fake",
            "OPENAI_BASE_URL": self.upstream.base_url,
        }


def machine_busy_s() -> float:
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


# --- the graph -------------------------------------------------------------------------------


def openai_only(config: dict[str, Any], port: int, cache: bool) -> None:
    """The shipped routes with the local model taken out: every class to an OpenAI tier (both
    at the fake upstream, OPENAI_BASE_URL); the local model's node is not deployed."""
    config["http_options"]["port"] = port
    app = config["applications"][0]
    app["args"]["llm_backends"] = {t: {"type": "openai", "model": "fake-model"} for t in TIERS}
    app["deployments"] = [d for d in app["deployments"] if d["name"] != "LLM-local"]
    router = deployment(config, "Router")["user_config"]
    routes = router["policy"]["routes"]
    router["policy"]["routes"] = {k: [b for b in v if b != "local"] for k, v in routes.items()}
    router["policy"]["default"] = ["openai-fast"]
    router["cache"] = {"enabled": cache}


def graph_config(rig: Rig, cache: bool) -> Path:
    config = yaml.safe_load((ROOT / "serve_config.yaml").read_text())
    openai_only(config, rig.args.port, cache)
    path = rig.out / f"serve-{'cached' if cache else 'uncached'}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@contextmanager
def graph(rig: Rig) -> Iterator[tuple[str, launcher.Head, dict[str, str]]]:
    """The tutor graph on the head the TUTOR_* environment names (as `tutor up` would)."""
    settings = Settings(data_dir=ROOT / "var", _env_file=None)
    head = launcher.head_for(settings)
    base = launcher.cluster_env(settings, env_file=None)
    env = {**base, **rig.env()}
    try:  # a head that timed out half-started is stopped too
        start_head(head, env)
        launcher.deploy(head, graph_config(rig, cache=True), env)
        launcher.wait_until_running(head, timeout_s=900)
        url = f"http://127.0.0.1:{rig.args.port}"
        wait_ready(url)
        yield url, head, env
    finally:
        launcher.stop_head(head)


def start_head(head: launcher.Head, env: dict[str, str], attempts: int = 3) -> None:
    """On a machine shared with other heads, Ray's agents have taken over a minute to start
    and the raylet gave up on them (its metrics-agent port file): stop what started, retry."""
    for attempt in range(1, attempts + 1):
        try:
            launcher.start_head(head, env, num_cpus=os.cpu_count() or 2)
            return
        except subprocess.CalledProcessError:
            launcher.stop_head(head)
            if attempt == attempts:
                raise
            print(f"ray start failed (attempt {attempt}); load {os.getloadavg()}", flush=True)


def redeploy(head: launcher.Head, env: dict[str, str], path: Path) -> None:
    launcher.deploy(head, path, env)
    time.sleep(5)  # the controller applies a user_config change within a few seconds
    launcher.wait_until_running(head, timeout_s=300)


# --- the single process ----------------------------------------------------------------------


@contextmanager
def single_process(rig: Rig) -> Iterator[tuple[str, psutil.Process]]:
    config = yaml.safe_load(graph_config(rig, cache=False).read_text())
    spec = {
        "router": deployment(config, "Router")["user_config"],
        "backends": config["applications"][0]["args"]["llm_backends"],
    }
    spec_path = rig.out / "single-process.json"
    spec_path.write_text(json.dumps(spec))
    port = free_port()
    env = {**os.environ, **rig.env(), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, str(HERE / "single_process_answers.py"), str(spec_path), str(port)]
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        url = f"http://127.0.0.1:{port}"
        # Imports, three shards and BM25's compiled scorer: over 5 minutes on a loaded machine.
        wait_ready(url, timeout_s=900)
        yield url, psutil.Process(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)


# --- one step --------------------------------------------------------------------------------


def warm_up(url: str) -> None:
    """Embedder batches, shard scorers and connection pools warm before anything is timed."""
    with httpx.Client(base_url=url, timeout=60, headers=ADMIN) as client:
        for n in range(12):
            body = {"question": f"What is the atomic number of element {n}?"}
            for _ in range(5):  # a dependency still connecting answers 503 at first
                response = client.post("/api/v1/ai-tutor/query", json=body)
                if response.status_code == 200:
                    break
                print(f"warm-up: {response.status_code} {response.text[:300]}", flush=True)
                time.sleep(5)


def idle_rate(roots: list[psutil.Process], prefix: Path, seconds: float = 20.0) -> float:
    """Cores the server burns with no requests (Ray's GCS, raylet, agents, controller)."""
    before = cpu_by_role(roots)
    time.sleep(seconds)
    cores = keep_roles(prefix.with_name(f"{prefix.name}-idle"), before, cpu_by_role(roots), seconds)
    return sum(cores.values())


def locust_command(rig: Rig, url: str, users: int, prefix: Path) -> list[str]:
    args = rig.args
    spawn_rate = max(10, users // 10)
    run_s = users / spawn_rate + args.measure
    return [
        *(str(Path(sys.executable).with_name("locust")), "-f", str(HERE / "locustfile.py")),
        *("--headless", "--only-summary", "--reset-stats", "--loglevel", "WARNING"),
        *("-u", str(users), "-r", str(spawn_rate), "-t", f"{run_s:.0f}s", "--host", url),
        *("--csv", str(prefix), "--tokens-file", str(rig.tokens_file)),
        *("--think-min", str(args.think[0]), "--think-max", str(args.think[1])),
        *("--tally-file", f"{prefix}_tally.json"),
    ]


def run_step(
    rig: Rig, label: str, url: str, server: list[psutil.Process], users: int, idle: float
) -> Step:
    redis.Redis.from_url(rig.args.redis_url).flushdb()  # cold cache, fresh quotas and sessions
    prefix = rig.out / f"{label.replace(', ', '-').replace(' ', '_')}-{users}"
    load_avg = os.getloadavg()
    command = locust_command(rig, url, users, prefix)
    log = (rig.out / f"{prefix.name}.log").open("w")
    locust = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    spawn_s = users / max(10, users // 10)
    time.sleep(spawn_s)
    meters = measured(server, locust, rig)
    before, roles_before, start = [m() for m in meters], cpu_by_role(server), time.monotonic()
    time.sleep(rig.args.measure)
    after, roles_after = [m() for m in meters], cpu_by_role(server)
    window = time.monotonic() - start
    keep_roles(prefix, roles_before, roles_after, window)
    locust.wait(timeout=120)
    cpu = [(b - a) / window for a, b in zip(before, after, strict=True)]
    tally = json.loads(Path(f"{prefix}_tally.json").read_text())
    figures = read_stats(Path(f"{prefix}_stats.csv"))
    return Step(label, users, load_avg, figures, tally, *cpu, idle)


def keep_roles(
    prefix: Path, before: dict[str, float], after: dict[str, float], window: float
) -> dict[str, float]:
    """Where the server's cores went over the window, by role, busiest first (a replica
    started during the window counts from zero)."""
    cores = {r: (t - before.get(r, 0.0)) / window for r, t in after.items()}
    busiest = dict(sorted(cores.items(), key=lambda item: -item[1]))
    Path(f"{prefix}_cpu_by_role.json").write_text(json.dumps(busiest, indent=1))
    print(
        f"  {prefix.name}: " + ", ".join(f"{r} {c:.3f}" for r, c in busiest.items() if c >= 0.005),
        flush=True,
    )
    return busiest


def measured(server: list[psutil.Process], locust: subprocess.Popen[bytes], rig: Rig) -> list[Any]:
    """CPU-seconds readers: the server, locust, the upstream, the whole machine."""
    assert rig.upstream.pid is not None
    upstream = psutil.Process(rig.upstream.pid)
    locust_proc = psutil.Process(locust.pid)
    return [
        lambda: tree_cpu_s(server),
        lambda: tree_cpu_s([locust_proc]),
        lambda: tree_cpu_s([upstream]),
        machine_busy_s,
    ]


def kept(rig: Rig, steps: list[Step]) -> None:
    """Printed and saved as each step ends: a later failure loses nothing measured."""
    print(steps[-1].line(), flush=True)
    (rig.out / "results.json").write_text(json.dumps([asdict(s) for s in steps], indent=1))


def run_graph(rig: Rig, steps: list[Step]) -> list[Step]:
    steps = list(steps)
    with graph(rig) as (url, head, env):
        warm_up(url)
        roots = launcher.head_processes(head)
        idle = idle_rate(roots, rig.out / "graph")
        if "mixed" in rig.args.graph_paths:
            for users in rig.args.users:
                steps.append(run_step(rig, "graph, mixed", url, roots, users, idle))
                kept(rig, steps)
        if "uncached" in rig.args.graph_paths:
            redeploy(head, env, graph_config(rig, cache=False))
            for users in rig.args.users:
                steps.append(run_step(rig, "graph, uncached", url, roots, users, idle))
                kept(rig, steps)
    return steps


def run_single(rig: Rig) -> list[Step]:
    steps: list[Step] = []
    with single_process(rig) as (url, proc):
        warm_up(url)
        idle = idle_rate([proc], rig.out / "single")
        for users in rig.args.users:
            steps.append(run_step(rig, "single, uncached", url, [proc], users, idle))
            kept(rig, steps)
    return steps


# --- set-up ----------------------------------------------------------------------------------


@contextmanager
def throwaway_database(server_url: str, name: str) -> Iterator[str]:
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{server_url}/{name}"
    migrate(url)
    try:
        yield url
    finally:
        with psycopg.connect(f"{server_url}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def mint_tokens(path: Path, students: int) -> None:
    config = Settings(data_dir=ROOT / "var", _env_file=None).token_config()
    assert config is not None, "tokens need the development secret (AUTH_MODE=jwt)"
    tokens = [mint(config, f"student-{n:04d}", "student", 4 * 3600) for n in range(students)]
    path.write_text(json.dumps(tokens))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--measure", type=float, default=60, help="seconds after spawning")
    parser.add_argument("--think", type=float, nargs=2, default=[20.0, 60.0])
    parser.add_argument("--port", type=int, default=8000, help="the graph's HTTP port")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"), required=False)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--only", choices=["graph", "single"], default=None)
    parser.add_argument(
        "--graph-paths", nargs="+", choices=["mixed", "uncached"], default=["mixed", "uncached"]
    )
    args = parser.parse_args()
    if not args.redis_url:
        parser.error("--redis-url or REDIS_URL: a Redis database this run may flush")
    return args


def main() -> None:
    args = parse_args()
    out = Path(tempfile.mkdtemp(prefix="tutor-load-", dir="/tmp"))
    print(f"output in {out}", flush=True)
    tokens = out / "tokens.json"
    mint_tokens(tokens, max(args.users))
    upstream = UpstreamProcess().start()
    upstream.set(latency_s=LATENCY_S)
    try:
        with throwaway_database(args.postgres, "tutor_load") as database_url:
            rig = Rig(args, out, upstream, database_url, tokens)
            steps = [] if args.only == "graph" else run_single(rig)
            if args.only != "single":  # the graph's steps after the single process's
                steps = run_graph(rig, steps)
    finally:
        upstream.kill()
    print(table(steps))


if __name__ == "__main__":
    main()
