"""The monitoring stack's files (deploy/monitoring/): every metric a dashboard panel or an alert
asks for is one the tutor or Ray exports, the dashboard is laid out and wired to the provisioned
data source, and Prometheus accepts the config and rules and fires each alert on synthetic
series (promtool, from Debian's `prometheus` package)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cluster.observability.metrics import DEFINITIONS
from tests.conftest import ROOT

MONITORING = ROOT / "deploy" / "monitoring"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "tutor.json"
ALERTS = MONITORING / "alerts.yml"
ALERT_TESTS = ROOT / "tests" / "unit" / "monitoring" / "alerts_test.yml"
# The ray_serve_* families Ray 2.60 exported during the dashboard's load run (docs/MONITORING.md).
SEEN = ROOT / "tests" / "unit" / "monitoring" / "ray-2.60-families.txt"
# Issue 17's list: requests, errors and latency by endpoint, latency by stage (Serve's per
# deployment), cache, grounding, breakers, backend latency and cost, shards, quota rejections.
ASKED_FOR = [
    "ray_tutor_requests_total",
    "ray_tutor_request_latency_seconds_bucket",
    "ray_serve_deployment_processing_latency_ms_bucket",
    "ray_tutor_cache_lookups_total",
    "ray_tutor_grounding_total",
    "ray_tutor_breaker_state",
    "ray_tutor_backend_latency_seconds_bucket",
    "ray_tutor_cost_usd_total",
    "ray_tutor_stage_latency_seconds_bucket",
    'ray_serve_deployment_replica_healthy{deployment=~"Retriever-.+"}',
    "ray_tutor_shard_healthy",
    "ray_tutor_shard_documents",
    "ray_tutor_quota_rejections_total",
]
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is missing: `apt-get install prometheus` (Debian) has it"
)


def dashboard() -> dict[str, Any]:
    return dict(json.loads(DASHBOARD.read_text()))


def panels() -> list[dict[str, Any]]:
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def panel_queries() -> list[tuple[str, str]]:
    return [(p["title"], t["expr"]) for p in panels() for t in p["targets"]]


def queries() -> list[tuple[str, str]]:
    """(where, PromQL) of every panel target and every alert."""
    return panel_queries() + [(rule["alert"], rule["expr"]) for rule in alert_rules()]


def exported_by_the_tutor(name: str) -> bool:
    """`ray_tutor_x_total` is counter `tutor_x` of DEFINITIONS, `..._bucket` a histogram's."""
    base = name.removeprefix("ray_")
    return any(
        base == f"{definition}{suffix}"
        for definition, (kind, _, _) in DEFINITIONS.items()
        for suffix in SUFFIXES[kind]
    )


def run(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("where", "expr"), queries(), ids=[w for w, _ in queries()])
def test_every_metric_queried_is_one_that_is_exported(where: str, expr: str):
    seen = {line for line in SEEN.read_text().splitlines() if not line.startswith("#")}
    for name in set(re.findall(r"\bray_[a-z0-9_]+", expr)):
        if name.startswith("ray_tutor_"):
            assert exported_by_the_tutor(name), f"{where}: {name} is not in metrics.DEFINITIONS"
        else:
            assert name in seen, f"{where}: {name} is not a family Ray exported"


def test_every_panel_reads_the_provisioned_prometheus():
    provisioned = MONITORING / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
    (source,) = yaml.safe_load(provisioned.read_text())["datasources"]
    assert source["url"] == "http://prometheus:9090"
    for panel in panels():
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        assert panel["targets"], panel["title"]


def test_no_two_panels_overlap_on_the_grid():
    taken: dict[tuple[int, int], str] = {}
    for panel in dashboard()["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        for cell in (
            (x, y)
            for x in range(pos["x"], pos["x"] + pos["w"])
            for y in range(pos["y"], pos["y"] + pos["h"])
        ):
            assert cell not in taken, f"{panel['title']} overlaps {taken[cell]}"
            taken[cell] = panel["title"]


def test_the_dashboard_shows_what_the_issue_asks_for():
    shown = " ".join(expr for _, expr in panel_queries())
    for family in ASKED_FOR:
        assert family in shown


@needs_promtool
def test_the_alert_rules_pass_promtool():
    result = run("check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_each_alert_fires_on_synthetic_series_and_not_on_healthy_ones():
    result = run("test", "rules", str(ALERT_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    tested = {
        case["alertname"]
        for test in yaml.safe_load(ALERT_TESTS.read_text())["tests"]
        for case in test["alert_rule_test"]
    }
    assert tested == {rule["alert"] for rule in alert_rules()}


@needs_promtool
def test_prometheus_accepts_the_compose_config(tmp_path: Path):
    for name in ("prometheus.yml", "alerts.yml"):
        shutil.copy(MONITORING / name, tmp_path / name)
    (tmp_path / "tutor-metrics.token").write_text("a token minted by `tutor token`\n")
    result = run("check", "config", str(tmp_path / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_quota_refusals_stage_timings_and_shard_state_are_recorded():
    """What the three panels added for the issue read: counted where the tutor decides."""
    from cluster.observability.metrics import PrometheusExporter, TutorMetrics
    from models.events import DoneEvent

    exporter = PrometheusExporter()
    metrics = TutorMetrics(exporter)
    metrics.quota_rejected("burst")
    metrics.answered(DoneEvent(timings_ms={"embed": 12.0, "generate": 2400.0}))
    metrics.shard_state("english", {"status": "healthy", "documents": 2500, "passages": 3456})
    metrics.shard_state("chemistry", {"status": "unhealthy", "error": "checksum"})
    value = exporter.registry.get_sample_value
    assert value("tutor_quota_rejections_total", {"limit": "burst"}) == 1
    assert value("tutor_stage_latency_seconds_sum", {"stage": "generate"}) == 2.4
    assert value("tutor_shard_documents", {"subject": "english", "kind": "passages"}) == 3456
    assert value("tutor_shard_healthy", {"subject": "chemistry"}) == 0
