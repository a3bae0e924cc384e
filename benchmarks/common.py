"""Shared by the benchmarks: a real tutor graph on spare ports (ray start + serve deploy of
serve_config.yaml, as `tutor up` does), and latency statistics."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cluster import launcher  # noqa: E402
from cluster.settings import ServeIngress, Settings  # noqa: E402
from tests.fakes.openai_server import free_port  # noqa: E402


def admin_headers(data_dir: Path = ROOT / "var") -> dict[str, str]:
    """A bearer token the graph on `data_dir` accepts (its development secret), for an admin:
    no quota, so that a benchmark measures the tutor, not its limits."""
    from access.tokens import mint

    config = Settings(data_dir=data_dir, _env_file=None).token_config()
    assert config is not None
    return {"Authorization": f"Bearer {mint(config, 'benchmark', 'admin', 86_400)}"}


ADMIN = admin_headers()


@dataclass
class Graph:
    url: str
    head: launcher.Head

    def processes(self) -> list[psutil.Process]:
        return launcher.head_processes(self.head)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def summary_ms(seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    p50, p95, p99 = statistics.median(ms), percentile(ms, 95), percentile(ms, 99)
    return f"p50 {p50:7.1f} ms  p95 {p95:7.1f}  p99 {p99:7.1f}"


def wait_ready(url: str, path: str = "/health/ready", timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + path, timeout=10).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise TimeoutError(f"{url}{path} not ready")


@contextmanager
def running_graph(
    env: dict[str, str] | None = None,
    edit_config: Callable[[dict[str, Any]], None] | None = None,
    data_dir: Path = ROOT / "var",
    serve_ingress: ServeIngress = "haproxy",
) -> Iterator[Graph]:
    """The tutor graph from serve_config.yaml on its own Ray head; `env` reaches every replica
    (unset REDIS_URL/DATABASE_URL mean the embedded defaults)."""
    temp = Path(tempfile.mkdtemp(prefix="tutor-bench-", dir="/tmp"))
    settings = Settings(
        data_dir=data_dir.resolve(),
        ray_temp_dir=temp,
        gcs_port=free_port(),
        dashboard_port=free_port(),
        metrics_port=free_port(),
        serve_ingress=serve_ingress,
        haproxy_stats_port=free_port(),
        haproxy_metrics_port=free_port(),
        _env_file=None,
    )
    head = launcher.head_for(settings)
    base = {
        k: v
        for k, v in launcher.cluster_env(settings, env_file=None).items()
        if k not in ("REDIS_URL", "DATABASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL")
    }
    merged = {**base, **(env or {})}
    config = yaml.safe_load((ROOT / "serve_config.yaml").read_text())
    port = free_port()
    config["http_options"]["port"] = port
    if edit_config is not None:
        edit_config(config)
    path = temp / "serve.yaml"
    path.write_text(yaml.safe_dump(config))
    launcher.start_head(head, merged, num_cpus=os.cpu_count() or 2)
    try:
        launcher.deploy(head, path, merged)
        launcher.wait_until_running(head, timeout_s=900)
        url = f"http://127.0.0.1:{port}"
        wait_ready(url)
        yield Graph(url, head)
    finally:
        launcher.stop_head(head)


def deployment(config: dict[str, Any], name: str) -> dict[str, Any]:
    """The `deployments:` entry called `name` in a parsed serve config."""
    found: dict[str, Any] = next(
        d for d in config["applications"][0]["deployments"] if d["name"] == name
    )
    return found


# --- CPU by process -------------------------------------------------------------------------


def tree_cpu_s(roots: list[psutil.Process]) -> float:
    """User + system CPU of `roots` and all their descendants (each counted once)."""
    return float(sum(cpu_by_role(roots).values()))


def cpu_by_role(roots: list[psutil.Process]) -> dict[str, float]:
    """CPU-seconds of `roots` and their descendants by role: a Ray process's title
    ("ray::ServeReplica:tutor:Router", "gcs_server", "raylet"), else its command's name."""
    by_role: dict[str, float] = {}
    seen: set[int] = set()
    for root in roots:
        try:
            family = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for proc in family:
            if proc.pid in seen:
                continue
            seen.add(proc.pid)
            try:
                times, command = proc.cpu_times(), proc.cmdline()
            except psutil.NoSuchProcess:
                continue
            role = role_of(command)
            by_role[role] = by_role.get(role, 0.0) + times.user + times.system
    return by_role


def role_of(command: list[str]) -> str:
    head = command[0] if command else "?"
    if head.startswith("ray::"):  # "ray::ServeController.listen_for_change" while it runs that
        return head.split()[0].split(".")[0]
    if "python" in Path(head).name:  # the script or module it runs, after any flags
        rest = command[1:]
        while rest and rest[0].startswith("-") and rest[0] != "-m":
            rest = rest[1:]
        script = rest[1] if rest[:1] == ["-m"] and len(rest) > 1 else (rest or [head])[0]
        return Path(script).name
    return Path(head).name
