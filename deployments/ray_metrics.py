"""Metrics inside the Serve graph: the tutor's metrics as Ray metrics (`RayExporter`), and
`/metrics`: the local Ray node's Prometheus exposition, relayed.

Ray's metrics agent on each node aggregates every replica's metrics (and Serve's own). On one
machine that is the whole cluster; on several, Prometheus scrapes each node's agent directly
(KubeRay's PodMonitor), and this endpoint shows the node that answered.
"""

from __future__ import annotations

from typing import Any

import httpx
import ray
from ray.util import metrics

from cluster.observability.metrics import DEFINITIONS, LATENCY_BUCKETS

# Families worth relaying: the tutor's own and Serve's request/replica metrics.
PREFIXES = (
    "ray_tutor_",
    "ray_serve_",
    "# HELP ray_tutor_",
    "# TYPE ray_tutor_",
    "# HELP ray_serve_",
    "# TYPE ray_serve_",
)


class RayExporter:
    def __init__(self) -> None:
        self._metrics: dict[str, Any] = {}
        for name, (kind, text, labels) in DEFINITIONS.items():
            if kind == "counter":
                self._metrics[name] = metrics.Counter(f"{name}_total", text, tag_keys=labels)
            elif kind == "gauge":
                self._metrics[name] = metrics.Gauge(name, text, tag_keys=labels)
            else:
                self._metrics[name] = metrics.Histogram(
                    name, text, boundaries=LATENCY_BUCKETS, tag_keys=labels
                )

    def record(self, name: str, value: float, labels: dict[str, str]) -> None:
        metric = self._metrics[name]
        kind = DEFINITIONS[name][0]
        if kind == "counter":
            if value > 0:
                metric.inc(value, labels)
        elif kind == "gauge":
            metric.set(value, labels)
        else:
            metric.observe(value, labels)


def local_metrics_url() -> str:
    node_id = ray.get_runtime_context().get_node_id()
    node = next(n for n in ray.nodes() if n["NodeID"] == node_id)
    return f"http://{node['NodeManagerAddress']}:{node['MetricsExportPort']}/metrics"


async def ray_metrics_text() -> str:
    async with httpx.AsyncClient(timeout=5.0) as client:
        response = await client.get(local_metrics_url())
        response.raise_for_status()
    return (
        "\n".join(line for line in response.text.splitlines() if line.startswith(PREFIXES)) + "\n"
    )
