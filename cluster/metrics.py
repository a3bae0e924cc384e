"""Application metrics behind one small protocol, recorded by the ingress's service.

In the Serve graph they are Ray metrics (`ray.util.metrics`): every replica reports to its node's
metrics agent, which Prometheus scrapes (and `/metrics` relays), so counters add up across
replicas. A plain process (the single-process baseline) uses prometheus-client instead.
"""

from __future__ import annotations

from typing import Any, Protocol

import prometheus_client as prom

LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]


class Metrics(Protocol):
    def request(self, endpoint: str, status: str, latency_s: float) -> None: ...

    def model_call(self, done: dict[str, Any]) -> None: ...


class PrometheusMetrics:
    """prometheus-client metrics for a single process; `text()` is its /metrics body."""

    def __init__(self, registry: prom.CollectorRegistry | None = None) -> None:
        self.registry = registry or prom.CollectorRegistry()
        self._requests = prom.Counter(
            "tutor_requests", "Answered requests", ["endpoint", "status"], registry=self.registry
        )
        self._latency = prom.Histogram(
            "tutor_request_latency_seconds",
            "End-to-end latency",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._tokens = prom.Counter(
            "tutor_model_tokens",
            "Tokens by model and direction",
            ["model", "direction"],
            registry=self.registry,
        )

    def request(self, endpoint: str, status: str, latency_s: float) -> None:
        self._requests.labels(endpoint, status).inc()
        self._latency.labels(endpoint).observe(latency_s)

    def model_call(self, done: dict[str, Any]) -> None:
        usage = done.get("usage", {})
        model = str(done.get("model_version"))
        self._tokens.labels(model, "in").inc(usage.get("prompt_tokens", 0))
        self._tokens.labels(model, "out").inc(usage.get("completion_tokens", 0))

    async def text(self) -> str:
        return prom.generate_latest(self.registry).decode()


class RayMetrics:
    """The same metrics as Ray metrics; they appear as `ray_tutor_*` on the node exporter."""

    def __init__(self) -> None:
        from ray.util import metrics

        self._requests = metrics.Counter(
            "tutor_requests_total", "Answered requests", tag_keys=("endpoint", "status")
        )
        self._latency = metrics.Histogram(
            "tutor_request_latency_seconds",
            "End-to-end latency",
            boundaries=LATENCY_BUCKETS,
            tag_keys=("endpoint",),
        )
        self._tokens = metrics.Counter(
            "tutor_model_tokens_total",
            "Tokens by model and direction",
            tag_keys=("model", "direction"),
        )

    def request(self, endpoint: str, status: str, latency_s: float) -> None:
        self._requests.inc(1, {"endpoint": endpoint, "status": status})
        self._latency.observe(latency_s, {"endpoint": endpoint})

    def model_call(self, done: dict[str, Any]) -> None:
        usage = done.get("usage", {})
        model = str(done.get("model_version"))
        for direction, key in (("in", "prompt_tokens"), ("out", "completion_tokens")):
            if usage.get(key):
                self._tokens.inc(usage[key], {"model": model, "direction": direction})
