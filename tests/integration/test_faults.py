"""The fault suite: outages through `tutor up`'s real graph, under a steady load.

One Ray head of the module's own, started by the real CLI with an OpenAI tier pointed at a
fake upstream that is down at deploy time, a Redis of the module's own (so it can be stopped),
and the real PostgreSQL. Every scenario runs a steady stream of student questions
(`steady_load`) while it breaks something, then counts what every request got: answered ok,
answered degraded (sources only), or failed (a 5xx or no response). `benchmarks/faults.py`
runs the same scenarios longer and prints the figures in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import yaml

from cluster.launcher import RAY_DEFAULTS, RAY_ENV, Head
from cluster.storage.migrate import migrate
from tests.conftest import ROOT, bearer
from tests.fakes.openai_server import UpstreamProcess, free_port
from tests.integration.fault_graph import BREAKER, REMOTE, edit_for_faults
from tests.integration.postgres_server import PostgresServer
from tests.integration.redis_server import RedisServer
from tests.integration.steady_load import Outcome, answered_turns, steady_load, summarize

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent
WORKERS = 3  # steady_load's concurrent students
# The load asks as an admin: no quota, so that only the faults decide what fails.
ADMIN = bearer("fault-admin", "admin", data_dir=ROOT / "var")


def fault_config(path: Path, port: int) -> Path:
    config = yaml.safe_load((ROOT / "serve_config.yaml").read_text())
    config["http_options"]["port"] = port
    edit_for_faults(config)
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def upstream_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path_factory.mktemp("fault-redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer.in_tmp(free_port()).init().start()
    migrate(server.url)
    yield server
    server.stop()
    server.remove()


@pytest.fixture(scope="module")
def operator_env(
    tmp_path_factory: pytest.TempPathFactory,
    upstream_port: int,
    redis_server: RedisServer,
    postgres_server: PostgresServer,
) -> dict[str, str]:
    temp = Path(f"/tmp/tutor-faults-{os.getpid()}")  # short: Ray's socket paths are limited
    return {
        **os.environ,
        "DATA_DIR": str((ROOT / "var").resolve()),
        "OPENAI_API_KEY": "sk-fault-suite",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{upstream_port}/v1",
        "REDIS_URL": redis_server.url,
        "DATABASE_URL": postgres_server.url,
        "CACHE_WARMUP_QUESTIONS": "0",
        "TUTOR_RAY_TEMP_DIR": str(temp),
        "TUTOR_GCS_PORT": str(free_port()),
        "TUTOR_DASHBOARD_PORT": str(free_port()),
        "TUTOR_METRICS_PORT": str(free_port()),
        "TUTOR_HAPROXY_STATS_PORT": str(free_port()),
        "TUTOR_HAPROXY_METRICS_PORT": str(free_port()),
        "CONFIG_DIR": str(tmp_path_factory.mktemp("fault-config")),
    }


@pytest.fixture(scope="module")
def cluster(operator_env: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Deployed while the OpenAI upstream is unreachable: nothing listens on its port."""
    port = free_port()
    config = fault_config(Path(operator_env["CONFIG_DIR"]) / "serve.yaml", port)
    head = Head(
        temp_dir=Path(operator_env["TUTOR_RAY_TEMP_DIR"]),
        gcs_port=int(operator_env["TUTOR_GCS_PORT"]),
        dashboard_port=int(operator_env["TUTOR_DASHBOARD_PORT"]),
        metrics_port=int(operator_env["TUTOR_METRICS_PORT"]),
        haproxy_ports=(
            int(operator_env["TUTOR_HAPROXY_STATS_PORT"]),
            int(operator_env["TUTOR_HAPROXY_METRICS_PORT"]),
        ),
    )
    cwd = operator_env["CONFIG_DIR"]
    up = subprocess.run(
        [str(BIN / "tutor"), "up", "--config", str(config), "--timeout", "600"],
        env=operator_env,
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield {"url": f"http://127.0.0.1:{port}", "config": config, "head": head}
    finally:
        subprocess.run([str(BIN / "tutor"), "down"], env=operator_env, cwd=cwd, check=False)


@pytest.fixture
def upstream(upstream_port: int) -> Iterator[UpstreamProcess]:
    """The OpenAI upstream, up for one test on the port the graph was deployed with."""
    server = UpstreamProcess(port=upstream_port).start()
    yield server
    server.kill()


def run_load(url: str, seconds: float, during: Any = None) -> list[Outcome]:
    """`seconds` of steady load; `during(load)` runs meanwhile (the fault), then the rest."""
    with steady_load(url, headers=ADMIN) as load:
        if during is not None:
            during(load)
        while load.elapsed() < seconds:
            time.sleep(0.2)
        return load.stop()


def components(cluster: dict[str, Any]) -> dict[str, Any]:
    url = f"{cluster['url']}/health/detailed"
    report: dict[str, Any] = httpx.get(url, timeout=30, headers=ADMIN).json()
    return report


def replica_warnings(cluster: dict[str, Any], last: int = 20) -> list[str]:
    """The Ingress and Router replicas' latest warnings and errors, for a failure's message."""
    logs = cluster["head"].temp_dir / "session_latest" / "logs" / "serve"
    lines = [
        line
        for pattern in ("replica_tutor_Ingress_*.log", "replica_tutor_Router_*.log")
        for path in sorted(logs.glob(pattern))
        for line in path.read_text(errors="replace").splitlines()
        if line.startswith(("WARNING", "ERROR"))
    ]
    return lines[-last:]


def assert_nothing_failed(
    cluster: dict[str, Any], outcomes: list[Outcome], in_flight_may_break: bool = False
) -> None:
    """Every request answered whole. With `in_flight_may_break`, a request whose stream had
    begun when its upstream died may end as a 502 that says so (at most one per worker)."""
    summary = summarize(outcomes)
    print(summary.line())  # the figures, for -s runs and CI logs
    assert summary.sent >= 5, summary.line()  # the load really ran
    failures = [o for o in outcomes if o.failed or o.status != "ok"]
    if in_flight_may_break:
        broken = [o for o in failures if o.http_status == 502 and "broke off" in o.error]
        assert len(broken) <= WORKERS, broken
        failures = [o for o in failures if o not in broken]
    assert not failures, (failures[:3], replica_warnings(cluster))


def test_a_deploy_with_the_upstream_unreachable_succeeds_and_answers_come_locally(cluster):
    deployments = httpx.get(
        f"{cluster['head'].dashboard_url}/api/serve/applications/", timeout=30
    ).json()["applications"]["tutor"]["deployments"]
    assert {d["status"] for d in deployments.values()} == {"HEALTHY"}
    assert httpx.get(f"{cluster['url']}/health/ready", timeout=30).status_code == 200
    parts = components(cluster)["components"]
    assert parts[f"llm:{REMOTE}"]["status"] == "unhealthy"  # named, not hidden
    assert parts["models"]["serving"] == ["local"]
    outcomes = run_load(cluster["url"], 12)
    assert_nothing_failed(cluster, outcomes)
    assert {o.backend for o in outcomes} == {"local"}


def test_when_the_upstream_comes_up_traffic_goes_back_to_it(cluster, upstream: UpstreamProcess):
    outcomes = run_load(cluster["url"], 12)
    assert_nothing_failed(cluster, outcomes)
    assert upstream.calls > 0
    remote = [o.at for o in outcomes if o.backend == REMOTE]
    # Within the breaker's probe interval (and one answer's time) the tier serves again.
    assert remote and remote[0] < BREAKER["open_s"] + 8, summarize(outcomes).line()
    assert outcomes[-1].backend == REMOTE


def test_the_upstream_killed_mid_run_falls_back_and_breaks_only_streams_in_flight(
    cluster, upstream: UpstreamProcess
):
    # 30 s, not 18: a local answer on a full session window took up to 19 s in one run, and
    # the students blocked on those sent nothing after the kill within 18 s.
    outcomes = run_load(cluster["url"], 30, during=lambda _: (time.sleep(3), upstream.kill()))
    assert_nothing_failed(cluster, outcomes, in_flight_may_break=True)
    after = [o for o in outcomes if o.at > 5]
    # After a fast remote phase each student's session holds a full window of turns, so the
    # local CPU model's answers take ~10 s (long prompts, summaries on the same model): the
    # load runs long enough for questions sent after the kill to be answered.
    timeline = [(round(o.at, 1), round(o.latency_s, 1), o.backend) for o in outcomes if o.at > 2]
    assert after and {o.backend for o in after} == {"local"}, timeline


@pytest.mark.parametrize(
    "fault",
    [{"mode": "hang"}, {"latency_s": 10.0}, {"failure_rate": 0.5}],
    ids=["hanging", "answering-in-10s", "failing-half-at-random"],
)
def test_a_sick_upstream_falls_back_to_the_local_model(
    cluster, upstream: UpstreamProcess, fault: dict[str, Any]
):
    upstream.set(**fault)
    outcomes = run_load(cluster["url"], 10)
    assert_nothing_failed(cluster, outcomes)
    assert "local" in {o.backend for o in outcomes}


def test_through_a_redis_restart_answers_continue_and_no_turn_is_lost(
    cluster, redis_server: RedisServer
):
    def outage(_: Any) -> None:
        time.sleep(3)
        redis_server.stop()
        time.sleep(6)
        redis_server.start()

    outcomes = run_load(cluster["url"], 16, during=outage)
    assert_nothing_failed(cluster, outcomes)
    expected = answered_turns(outcomes)
    # Turns written while Redis was down wait in the replica that took them, which writes
    # them back on its next session operation (retrying Redis at most every 2 s).
    kept: dict[str, int] = {}
    deadline = time.monotonic() + 20
    while kept != expected and time.monotonic() < deadline:
        time.sleep(1)
        for session_id in expected:
            url = f"{cluster['url']}/api/v1/ai-tutor/session/{session_id}"
            kept[session_id] = len(httpx.get(url, timeout=30, headers=ADMIN).json()["turns"])
    assert kept == expected


def dropped_log_rows(cluster: dict[str, Any]) -> float:
    """Request-log rows dropped so far, summed over every ingress replica (Ray's metrics)."""
    text = httpx.get(f"{cluster['url']}/metrics", timeout=30, headers=ADMIN).text
    series = [line for line in text.splitlines() if line.startswith("ray_tutor_request_log_rows")]
    return sum(float(line.rsplit(" ", 1)[1]) for line in series if 'outcome="dropped"' in line)


def logged_rows(postgres: PostgresServer, sessions: set[str]) -> int:
    with psycopg.connect(postgres.url) as conn:
        query = "SELECT count(*) FROM request_log WHERE session_id = ANY(%s)"
        row = conn.execute(query, (sorted(sessions),)).fetchone()
    return int(row[0]) if row else 0


def test_through_a_postgresql_restart_answers_continue_and_each_log_row_is_kept_or_counted(
    cluster, postgres_server: PostgresServer
):
    dropped_before = dropped_log_rows(cluster)

    def outage(_: Any) -> None:
        time.sleep(3)
        postgres_server.stop()
        time.sleep(6)
        postgres_server.start()

    outcomes = run_load(cluster["url"], 16, during=outage)
    assert_nothing_failed(cluster, outcomes)
    sessions = {o.session_id for o in outcomes}
    # Every answer is a row in PostgreSQL or a row counted as dropped (metrics export every
    # few seconds, and rows are written in batches: wait for both to settle).
    accounted, deadline = 0.0, time.monotonic() + 60
    while accounted != len(outcomes) and time.monotonic() < deadline:
        time.sleep(2)
        dropped = dropped_log_rows(cluster) - dropped_before
        accounted = logged_rows(postgres_server, sessions) + dropped
    assert accounted == len(outcomes)
    assert logged_rows(postgres_server, sessions) > 0  # written before and after the outage


def test_a_serve_deploy_of_a_changed_user_config_under_load_fails_nothing(cluster):
    config = yaml.safe_load(cluster["config"].read_text())
    router = next(d for d in config["applications"][0]["deployments"] if d["name"] == "Router")
    router["user_config"]["generation"]["max_tokens"] = 40

    def deploy(_: Any) -> None:
        time.sleep(2)
        changed = Path(cluster["config"]).with_name("changed.yaml")
        changed.write_text(yaml.safe_dump(config))
        command = [str(BIN / "serve"), "deploy", str(changed)]
        subprocess.run(
            [*command, f"--address={cluster['head'].dashboard_url}"], check=True, timeout=60
        )

    assert_nothing_failed(cluster, run_load(cluster["url"], 10, during=deploy))


@pytest.mark.parametrize(
    "deployment", ["Ingress", "Router", "Embedder", "Retriever-chemistry", f"LLM-{REMOTE}"]
)
def test_a_killed_replica_is_replaced_and_only_its_in_flight_requests_may_break(
    cluster, operator_env: dict[str, str], upstream: UpstreamProcess, deployment: str
):
    """Serve replaces a killed replica. Requests it held may break; each must then be a 5xx
    that says so (counted here), and no more than the replica held at once."""
    del upstream  # up, so that the remote tier's replica is in use when it dies
    address = f"127.0.0.1:{operator_env['TUTOR_GCS_PORT']}"

    killed_at: list[float] = []

    def kill(load: Any) -> None:
        time.sleep(3)
        command = [sys.executable, "-m", "tests.integration.kill_replica", address, deployment]
        env = {**RAY_DEFAULTS, **operator_env, **RAY_ENV}
        subprocess.run(command, env=env, cwd=ROOT, check=True, timeout=60)
        # The killing driver starts Ray in a process of its own: on a loaded CI machine that
        # took over 10 s (a request sent at 15 s was still in flight at the kill), so recovery
        # is timed from when the kill returned, and the load runs on 14 s after it.
        killed_at.append(load.elapsed())
        while load.elapsed() < killed_at[0] + 14:
            time.sleep(0.2)

    outcomes = run_load(cluster["url"], 18, during=kill)
    summary = summarize(outcomes)
    print(deployment, summary.line(), f"killed at {killed_at[0]:.1f} s")
    broken = [o for o in outcomes if o.failed]
    assert len(broken) <= 3, broken  # at most the three workers' requests in flight then
    if deployment == "Ingress":
        # Its in-flight requests end at HAProxy (a 5xx or a reset). Serve then reconfigures
        # HAProxy for the replacement replica, which can close a client's idle keep-alive
        # connection: a POST sent on it is a disconnect, seconds after the kill. Until HAProxy
        # is reconfigured, its fallback (Serve's Python proxy) may still route a request to
        # the dead replica and answer a plain 500 (seen once in 2 runs). Counted here.
        assert all(o.http_status in (0, 500, 502, 503) for o in broken), broken
        recovered_by = killed_at[0] + 5
        late = [
            o for o in outcomes if o.at > recovered_by and o.status != "ok" and o.http_status != 0
        ]
    else:  # behind the ingress, the tutor's own 502/503 says what broke
        assert all(o.http_status in (502, 503) and "replica" in o.error for o in broken), broken
        # Callers' handles learn of the dead replica from the controller: once, 6 s after the
        # kill, the OpenAI tier's was still being picked (4 requests). Recovered within 8 s of
        # the kill is what is held.
        late = [o for o in outcomes if o.at > killed_at[0] + 8 and o.status != "ok"]
    assert late == []  # recovered


def test_a_students_burst_limit_holds_across_two_ingress_replicas(cluster):
    """3N concurrent questions from one student whose limit is N: exactly N answered, the
    rest 429 with Retry-After; another student is unaffected. The count is one Lua script in
    Redis, so two replicas do not double the limit."""
    limit = 4
    config = yaml.safe_load(cluster["config"].read_text())
    ingress = next(d for d in config["applications"][0]["deployments"] if d["name"] == "Ingress")
    ingress["user_config"] = {"quotas": {"roles": {"student": {"burst_per_minute": limit}}}}
    changed = Path(cluster["config"]).with_name("quota.yaml")
    changed.write_text(yaml.safe_dump(config))
    address = f"--address={cluster['head'].dashboard_url}"
    subprocess.run([str(BIN / "serve"), "deploy", str(changed), address], check=True, timeout=60)
    student = bearer(f"quota-{os.getpid()}", data_dir=ROOT / "var")
    url = f"{cluster['url']}/api/v1/ai-tutor/query"

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60, headers=student) as http:
            asks = [http.post(url, json={"question": "What is a noun?"}) for _ in range(3 * limit)]
            return list(await asyncio.gather(*asks))

    deadline, seen = time.monotonic() + 30, 0  # the user_config reaches both replicas in seconds
    while seen < 4 and time.monotonic() < deadline:
        probe = httpx.post(
            url,
            json={"question": "What is gold?"},
            headers=bearer(f"probe-{time.monotonic_ns()}", data_dir=ROOT / "var"),
            timeout=60,
        )
        seen = seen + 1 if probe.headers.get("x-ratelimit-limit") == str(limit) else 0
        time.sleep(0.5)
    statuses = [r.status_code for r in asyncio.run(burst())]
    assert sorted(statuses) == [200] * limit + [429] * (2 * limit), statuses
    other = bearer(f"other-{os.getpid()}", data_dir=ROOT / "var")
    assert (
        httpx.post(url, json={"question": "What is a verb?"}, headers=other, timeout=60).status_code
        == 200
    )
