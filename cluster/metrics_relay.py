"""`/metrics` inside the Serve graph: the local Ray node's Prometheus exposition, relayed.

Ray's metrics agent on each node aggregates every replica's metrics (and Serve's own). On one
machine that is the whole cluster; on several, Prometheus scrapes each node's agent directly
(KubeRay's PodMonitor), and this endpoint shows the node that answered.
"""

from __future__ import annotations

import httpx
import ray

# Families worth relaying: the tutor's own and Serve's request/replica metrics.
PREFIXES = (
    "ray_tutor_",
    "ray_serve_",
    "# HELP ray_tutor_",
    "# TYPE ray_tutor_",
    "# HELP ray_serve_",
    "# TYPE ray_serve_",
)


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
