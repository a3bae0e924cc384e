"""What an operator does: `tutor up`, `serve status`, `tutor deploy` of a change and of a new
model, a release that fails verification rolled back under load, `tutor down`.

A Ray head of its own (own ports and temp dir), started by the real CLI with the embedded
defaults `make run` uses on a fresh machine: no REDIS_URL (sessions in a named Ray actor shared
by the ingress replicas) and no DATABASE_URL (no request log). The CLI runs from an empty
directory so that a developer's .env cannot change that.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from cluster.launcher import Head, head_processes
from tests.conftest import ROOT, bearer
from tests.fakes.openai_server import free_port
from tests.integration.tiny_finetune import TINY_ARGS, tiny_finetuned_model

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent
# `tutor up` runs on the checkout's DATA_DIR: its development secret signs the tests' tokens.
ADMIN = bearer("it-admin", "admin", data_dir=ROOT / "var")


def write_config(
    path: Path, port: int, mode: str, max_replicas: int, model_dir: str | None = None
) -> Path:
    config = yaml.safe_load((ROOT / "serve_config.yaml").read_text())
    config["http_options"]["port"] = port
    for deployment in config["applications"][0]["deployments"]:
        if deployment["name"] == "LLM-local" and model_dir is not None:
            deployment["user_config"]["model_dir"] = model_dir
        if deployment["name"] == "Ingress":  # two replicas: sessions must be shared
            deployment["autoscaling_config"]["min_replicas"] = 2
        if deployment["name"] == "Router":
            deployment["user_config"]["search"]["mode"] = mode
            deployment["autoscaling_config"]["max_replicas"] = max_replicas
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def operator_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    temp = Path(f"/tmp/tutor-up-{os.getpid()}")  # short: Ray's socket paths have a length limit
    inherited = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    return {
        **inherited,
        "DATA_DIR": str((ROOT / "var").resolve()),
        "TUTOR_RAY_TEMP_DIR": str(temp),
        "TUTOR_GCS_PORT": str(free_port()),
        "TUTOR_DASHBOARD_PORT": str(free_port()),
        "TUTOR_METRICS_PORT": str(free_port()),
        "TUTOR_HAPROXY_STATS_PORT": str(free_port()),
        "TUTOR_HAPROXY_METRICS_PORT": str(free_port()),
        "CONFIG_DIR": str(tmp_path_factory.mktemp("config")),
        "TUTOR_RELEASES_DIR": str(tmp_path_factory.mktemp("releases")),
    }


@pytest.fixture(scope="module")
def cluster(operator_env: dict[str, str]) -> Iterator[dict[str, Any]]:
    port = free_port()
    config = write_config(Path(operator_env["CONFIG_DIR"]) / "serve.yaml", port, "dense", 2)
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
    up = subprocess.run(
        [str(BIN / "tutor"), "up", "--config", str(config), "--timeout", "600"],
        env=operator_env,
        cwd=operator_env["CONFIG_DIR"],
        capture_output=True,
        text=True,
    )
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield {
            "url": f"http://127.0.0.1:{port}",
            "config": config,
            "head": head,
            "up": up.stdout,
            "env": operator_env,
        }
    finally:
        cwd = operator_env["CONFIG_DIR"]
        subprocess.run([str(BIN / "tutor"), "down"], env=operator_env, cwd=cwd, check=False)


def tutor(cluster: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    """The `tutor` CLI as the operator runs it, against this test's head."""
    env = cluster["env"]
    command = [str(BIN / "tutor"), *args]
    return subprocess.run(command, env=env, cwd=env["CONFIG_DIR"], capture_output=True, text=True)


def serve_cli(cluster: dict[str, Any], *args: str) -> str:
    command = [str(BIN / "serve"), *args, f"--address={cluster['head'].dashboard_url}"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return done.stdout


def deployment_state(cluster: dict[str, Any], name: str = "Router") -> dict[str, Any]:
    url = f"{cluster['head'].dashboard_url}/api/serve/applications/"
    app = httpx.get(url, timeout=10).json()["applications"]["tutor"]
    state: dict[str, Any] = app["deployments"][name]
    return state


def router_state(cluster: dict[str, Any]) -> dict[str, Any]:
    return deployment_state(cluster, "Router")


def test_tutor_up_prints_where_to_go(cluster: dict[str, Any]):
    assert f"tutor:     {cluster['url']}/api/v1/ai-tutor/query" in cluster["up"]
    assert f"dashboard: {cluster['head'].dashboard_url}" in cluster["up"]


def test_serve_status_shows_every_node_healthy(cluster: dict[str, Any]):
    status = yaml.safe_load(serve_cli(cluster, "status"))
    deployments = status["applications"]["tutor"]["deployments"]
    assert len(deployments) == 7
    assert {d["status"] for d in deployments.values()} == {"HEALTHY"}


def test_the_readme_question_is_answered_with_its_chemistry_source(cluster: dict[str, Any]):
    token = subprocess.run(  # as the README does: TOKEN=$(tutor token readme-student)
        [str(BIN / "tutor"), "token", "readme-student"],
        env=cluster["env"],
        cwd=cluster["env"]["CONFIG_DIR"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    response = httpx.post(
        f"{cluster['url']}/api/v1/ai-tutor/query",
        content='{"question": "What is the atomic number of carbon?"}',  # as `curl -d` sends it
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "authorization": f"Bearer {token}",
        },
        timeout=120,
    )
    assert response.status_code == 200, response.text
    assert response.json()["sources"][0]["id"] == "chemistry:carbon"


def test_embedded_defaults_are_reported_and_sessions_span_ingress_replicas(cluster: dict[str, Any]):
    url = cluster["url"]
    components = httpx.get(f"{url}/health/detailed", timeout=30, headers=ADMIN).json()["components"]
    assert components["session_store"] == {**components["session_store"], "backend": "ray-actor"}
    assert components["redis"]["status"] == components["database"]["status"] == "disabled"
    start = f"{url}/api/v1/ai-tutor/session/start"
    session_id = httpx.post(start, json={}, headers=ADMIN).json()["session_id"]
    # Requests spread over both ingress replicas; each must see what the other wrote.
    for question in ("What is an atom?", "What is a molecule?"):
        body = {"question": question, "session_id": session_id}
        answer = httpx.post(f"{url}/api/v1/ai-tutor/query", json=body, timeout=120, headers=ADMIN)
        assert answer.status_code == 200, answer.text
    seen = [
        len(
            httpx.get(
                f"{url}/api/v1/ai-tutor/session/{session_id}", timeout=30, headers=ADMIN
            ).json()["turns"]
        )
        for _ in range(6)
    ]
    assert seen == [4] * 6


def test_tutor_deploy_of_a_changed_config_updates_in_place(cluster: dict[str, Any]):
    before = {r["replica_id"] for r in router_state(cluster)["replicas"]}
    search = f"{cluster['url']}/api/v1/retrieval/search"
    query = {"query": "hash function"}
    dense = httpx.post(search, json=query, timeout=60, headers=ADMIN).json()["results"]
    config = write_config(cluster["config"], int(cluster["url"].rsplit(":", 1)[1]), "hybrid", 3)
    deployed = tutor(cluster, "deploy", "--config", str(config), "--no-verify")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "release 2: applied" in deployed.stdout  # `tutor up` made release 1
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = router_state(cluster)
        if state["deployment_config"]["autoscaling_config"]["max_replicas"] == 3:
            break
        time.sleep(1)
    # A reciprocal-rank-fusion score is at most sum(weights) / (rrf_k + 1), the exact
    # look-up's ranking included; a close cosine similarity is well above that, so the
    # score's scale shows which mode answered.
    deployments = yaml.safe_load(config.read_text())["applications"][0]["deployments"]
    router = next(d for d in deployments if d["name"] == "Router")
    fusion = router["user_config"]["search"]["fusion"]
    weights = fusion["dense_weight"] + fusion["keyword_weight"] + fusion["exact_weight"]
    rrf_ceiling = weights / (fusion["rrf_k"] + 1)
    # The router's search settings reach the ingress (which serves searches) within a second.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        hybrid = httpx.post(search, json=query, timeout=60, headers=ADMIN).json()["results"]
        if hybrid[0]["score"] <= rrf_ceiling:
            break
        time.sleep(0.5)
    assert dense[0]["score"] > rrf_ceiling + 0.2  # a cosine similarity (0.70 here)
    assert hybrid[0]["score"] <= rrf_ceiling  # an RRF score: the new user_config is served
    assert {r["replica_id"] for r in router_state(cluster)["replicas"]} == before  # no restart


@pytest.fixture
def second_model() -> Iterator[tuple[str, str]]:
    """A fine-tuned model made by the tiny run CI does (`tutor finetune`, 2 steps on 8
    examples): (its directory's name, its version). Its answers are not the point; that the
    pipeline writes a directory the node loads and serves is."""
    models = ROOT / "var" / "models"
    name = f"smollm2-curriculum-ci-{os.getpid()}"
    started = time.perf_counter()
    manifest = tiny_finetuned_model(models, name)
    print(f"tiny fine-tune {time.perf_counter() - started:.1f} s ({' '.join(TINY_ARGS)})")
    assert manifest["steps"] == 2 and manifest["method"] == "lora-merged"
    assert len(manifest["data_sha256"]) == 64 and manifest["examples"] == 8
    assert manifest["base_version"].startswith("smollm2-135m-instruct@")
    assert manifest["eval"]["held_out_questions"] == 1
    assert not [p for p in os.listdir(models) if p.startswith(f".{name}")]  # no build left
    yield name, manifest["version"]
    shutil.rmtree(models / name)


def keep_asking(url: str, stop: threading.Event, results: list[tuple[int, str]]) -> None:
    with httpx.Client(timeout=120, headers=ADMIN) as client:
        while not stop.is_set():
            response = client.post(
                f"{url}/api/v1/ai-tutor/query", json={"question": "What is a noun?"}
            )
            version = (
                response.json().get("model_version", "") if response.status_code == 200 else ""
            )
            results.append((response.status_code, version))


def test_a_fine_tuned_model_is_released_and_a_release_that_cannot_load_is_rolled_back(
    cluster: dict[str, Any], second_model: tuple[str, str]
):
    """Both under three students asking without pause: no request may fail."""
    name, version = second_model
    llm_before = {r["replica_id"] for r in deployment_state(cluster, "LLM-local")["replicas"]}
    port = int(cluster["url"].rsplit(":", 1)[1])
    stop, results = threading.Event(), []  # type: ignore[var-annotated]
    askers = [
        threading.Thread(target=keep_asking, args=(cluster["url"], stop, results)) for _ in range(3)
    ]
    for asker in askers:
        asker.start()
    try:
        time.sleep(5)
        good = write_config(cluster["config"], port, "hybrid", 3, model_dir=name)
        released = tutor(cluster, "deploy", "--config", str(good))
        bad = write_config(cluster["config"], port, "hybrid", 3, model_dir="no-such-model")
        failed = tutor(cluster, "deploy", "--config", str(bad))
        rolled_back_at = len(results)
        time.sleep(10)
    finally:
        stop.set()
        for asker in askers:
            asker.join(timeout=180)
    assert released.returncode == 0, released.stdout + released.stderr
    assert "release 3: verified" in released.stdout
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert f"llm:local serves {version}, not no-such-model" in failed.stdout
    assert "release 4 failed; release 5 is live again" in failed.stderr
    statuses = {status for status, _ in results}
    versions = [v for _, v in results]
    assert statuses == {200}, f"{len(results)} answers, statuses {statuses}"
    assert versions[0].startswith("smollm2-135m-instruct@")
    # the failed release never served, and after its rollback the fine-tuned model answers
    # (answers begun before the swap may end after `tutor deploy` returns, hence no cut there)
    assert "no-such-model" not in versions
    assert versions[rolled_back_at:] and set(versions[rolled_back_at:]) == {version}
    llm_after = {r["replica_id"] for r in deployment_state(cluster, "LLM-local")["replicas"]}
    assert llm_after == llm_before  # swapped inside the running replica, and kept
    history = tutor(cluster, "releases").stdout.splitlines()
    lines = [line for line in history if line[:4].strip().isdigit()]
    statuses_by_id = {int(line.split()[0]): line.split()[4] for line in lines}
    assert statuses_by_id == {5: "verified", 4: "failed", 3: "verified", 2: "applied", 1: "applied"}
    assert "(rollback to 3)" in lines[0]


def test_verify_deployment_script_checks_the_live_release(cluster: dict[str, Any]):
    script = ROOT / "scripts" / "verify_deployment.sh"
    done = subprocess.run([str(script)], env=cluster["env"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok   search: What is a noun?" in done.stdout
    assert "checks passed" in done.stdout


def test_tutor_down_stops_only_its_own_head(cluster: dict[str, Any], operator_env: dict[str, str]):
    cwd = operator_env["CONFIG_DIR"]
    subprocess.run([str(BIN / "tutor"), "down"], env=operator_env, cwd=cwd, check=True)
    assert head_processes(cluster["head"]) == []
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{cluster['head'].dashboard_url}/api/version", timeout=2)
