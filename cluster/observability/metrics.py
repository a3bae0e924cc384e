"""Application metrics: one table of definitions, two exporters (prometheus-client here, Ray's
in `deployments/ray_metrics.py`).

In the Serve graph they are Ray metrics (`ray.util.metrics`): every replica reports to its node's
metrics agent, which Prometheus scrapes (and `/metrics` relays as `ray_tutor_*`), so counts add
up across replicas. A plain process (the single-process baseline, unit tests) uses
prometheus-client and serves `tutor_*` itself.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

import prometheus_client as prom

from models.events import DoneEvent, Usage

Kind = Literal["counter", "histogram", "gauge"]
# Up to 120 s: a local model's answer on a busy CPU takes tens of seconds, and a p95 read off
# a histogram can show nothing above its last bucket.
LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

# name (counters without _total: both exporters append it) -> kind, help, labels
DEFINITIONS: dict[str, tuple[Kind, str, tuple[str, ...]]] = {
    "tutor_requests": ("counter", "Answered requests", ("endpoint", "status", "arm")),
    "tutor_request_latency_seconds": ("histogram", "End-to-end latency", ("endpoint", "arm")),
    "tutor_model_tokens": ("counter", "Tokens by model version", ("model", "direction")),
    "tutor_cost_usd": ("counter", "Estimated model cost (price table)", ("model", "arm")),
    "tutor_fallbacks": ("counter", "Backends skipped or failed before one answered", ("arm",)),
    "tutor_feedback": ("counter", "User feedback", ("arm", "rating")),
    "tutor_grounding": (
        "counter",
        "Answers checked against their sources: supported, repaired, unsupported or unverified",
        ("verdict", "model"),
    ),
    "tutor_backend_calls": ("counter", "Calls to a backend by outcome", ("backend", "outcome")),
    "tutor_backend_latency_seconds": (
        "histogram",
        "A backend call, first try to end",
        ("backend",),
    ),
    "tutor_breaker_state": (
        "gauge",
        "Circuit breaker: 0 closed, 1 half-open, 2 open",
        ("backend",),
    ),
    "tutor_request_log_rows": (
        "counter",
        "Request-log rows written to PostgreSQL, or dropped while it was unavailable",
        ("outcome",),
    ),
    "tutor_stage_latency_seconds": (
        "histogram",
        "Each stage of an answer (embed, search, rerank, generate, check...), from its timings",
        ("stage",),
    ),
    "tutor_quota_rejections": (
        "counter",
        "Requests refused with 429, by the limit reached (burst, daily questions, daily tokens)",
        ("limit",),
    ),
    "tutor_shard_healthy": (
        "gauge",
        "1 while a shard replica serves a verified index version, 0 when it has none",
        ("subject",),
    ),
    "tutor_shard_documents": (
        "gauge",
        "Documents in the index version a shard replica serves (passages: kind=passages)",
        ("subject", "kind"),
    ),
    "tutor_cache_lookups": (
        "counter",
        "Response cache lookups: hit_exact, hit_semantic, miss, rejected (a near miss the "
        "guard refused), error",
        ("result",),
    ),
}


class Exporter(Protocol):
    def record(self, name: str, value: float, labels: dict[str, str]) -> None: ...


class PrometheusExporter:
    def __init__(self, registry: prom.CollectorRegistry | None = None) -> None:
        self.registry = registry or prom.CollectorRegistry()
        self._metrics: dict[str, Any] = {
            name: self._make(name, kind, text, labels)
            for name, (kind, text, labels) in DEFINITIONS.items()
        }

    def _make(self, name: str, kind: Kind, text: str, labels: tuple[str, ...]) -> Any:
        if kind == "counter":
            return prom.Counter(name, text, labels, registry=self.registry)
        if kind == "gauge":
            return prom.Gauge(name, text, labels, registry=self.registry)
        return prom.Histogram(name, text, labels, buckets=LATENCY_BUCKETS, registry=self.registry)

    def record(self, name: str, value: float, labels: dict[str, str]) -> None:
        metric = self._metrics[name].labels(**labels)
        kind = DEFINITIONS[name][0]
        if kind == "counter":
            metric.inc(value)
        elif kind == "gauge":
            metric.set(value)
        else:
            metric.observe(value)

    async def text(self) -> str:
        return prom.generate_latest(self.registry).decode()


class TutorMetrics:
    """What the ingress and the router record, in the exporter they were given."""

    def __init__(self, exporter: Exporter) -> None:
        self.exporter = exporter

    def request(self, endpoint: str, status: str, latency_s: float, arm: str = "") -> None:
        self.exporter.record(
            "tutor_requests", 1, {"endpoint": endpoint, "status": status, "arm": arm}
        )
        self.exporter.record(
            "tutor_request_latency_seconds", latency_s, {"endpoint": endpoint, "arm": arm}
        )

    def answered(self, done: DoneEvent) -> None:
        """Tokens, cost and fallbacks of one answer (its router `DoneEvent`)."""
        model, arm = str(done.model_version), done.arm
        usage = done.usage
        self.exporter.record(
            "tutor_model_tokens", usage.prompt_tokens, {"model": model, "direction": "in"}
        )
        self.exporter.record(
            "tutor_model_tokens", usage.completion_tokens, {"model": model, "direction": "out"}
        )
        self.exporter.record("tutor_cost_usd", done.cost_usd, {"model": model, "arm": arm})
        self.exporter.record("tutor_fallbacks", done.fallbacks, {"arm": arm})
        if done.grounding is not None:
            labels = {"verdict": done.grounding.verdict, "model": model}
            self.exporter.record("tutor_grounding", 1, labels)
        for stage, ms in done.timings_ms.items():
            self.exporter.record("tutor_stage_latency_seconds", ms / 1000, {"stage": stage})

    def feedback(self, arm: str, rating: str) -> None:
        self.exporter.record("tutor_feedback", 1, {"arm": arm, "rating": rating})

    def backend_call(self, backend: str, outcome: str, latency_s: float, usage: Usage) -> None:
        del usage  # tokens are counted per answer, by model version, at the ingress
        self.exporter.record("tutor_backend_calls", 1, {"backend": backend, "outcome": outcome})
        self.exporter.record("tutor_backend_latency_seconds", latency_s, {"backend": backend})

    def breaker_state(self, backend: str, code: int) -> None:
        self.exporter.record("tutor_breaker_state", code, {"backend": backend})

    def request_log_rows(self, outcome: str, rows: int) -> None:
        self.exporter.record("tutor_request_log_rows", rows, {"outcome": outcome})

    def cache_lookup(self, result: str) -> None:
        self.exporter.record("tutor_cache_lookups", 1, {"result": result})

    def quota_rejected(self, limit: str) -> None:
        self.exporter.record("tutor_quota_rejections", 1, {"limit": limit})

    def shard_state(self, subject: str, report: dict[str, Any]) -> None:
        """A shard replica's `health()` report, as gauges."""
        healthy = report.get("status") == "healthy"
        self.exporter.record("tutor_shard_healthy", 1 if healthy else 0, {"subject": subject})
        for kind in ("documents", "passages"):
            count = float(report.get(kind, 0))
            self.exporter.record("tutor_shard_documents", count, {"subject": subject, "kind": kind})
