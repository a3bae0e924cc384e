"""Component health: run probes with a deadline, report the seed's JSON shape, decide readiness."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

Probe = Callable[[], Awaitable[dict[str, Any]]]
VERSION = "0.1.0"
# Statuses that still let the node take traffic; "disabled" = not configured, by choice.
SERVING = frozenset({"healthy", "degraded", "disabled"})
# Components the tutor answers without: sessions fall back to memory (Redis), the request log
# counts what it drops (PostgreSQL), each model tier is one of a chain (`models` says whether
# any serves), breakers and the cache fall back per replica. Their failure degrades, never
# unreadies: a readiness probe that failed for them would take away answers that still work.
OPTIONAL = ("redis", "database", "openai", "breakers", "response_cache", "llm:")


async def run_probe(probe: Probe, timeout_s: float) -> dict[str, Any]:
    """A probe's report with its latency; a probe that raises or hangs reports unhealthy."""
    start = time.perf_counter()
    try:
        report = await asyncio.wait_for(probe(), timeout_s)
    except TimeoutError:
        report = {"status": "unhealthy", "error": f"no answer within {timeout_s:.0f}s"}
    except Exception as exc:  # noqa: BLE001 - any failure of a dependency is its ill health
        report = {"status": "unhealthy", "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    report.setdefault("status", "healthy")
    report.setdefault("latency_ms", round((time.perf_counter() - start) * 1000, 2))
    return report


async def check_all(probes: dict[str, Probe], timeout_s: float = 3.0) -> dict[str, Any]:
    names = list(probes)
    reports = await asyncio.gather(*(run_probe(probes[n], timeout_s) for n in names))
    return report_of(dict(zip(names, reports, strict=True)))


def report_of(components: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The seed's health shape: overall status, version, time, and each component."""
    return {
        "status": overall_status(components),
        "version": VERSION,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "components": components,
    }


def overall_status(components: dict[str, dict[str, Any]]) -> str:
    if failing(components):
        return "unhealthy"
    return "degraded" if degraded(components) else "healthy"


def is_optional(name: str) -> bool:
    return name.startswith(OPTIONAL)


def failing(components: dict[str, dict[str, Any]]) -> list[str]:
    """Components that stop the node being ready: an essential one neither serving nor
    disabled. Optional ones (`OPTIONAL`) only degrade."""
    return sorted(
        name
        for name, c in components.items()
        if c["status"] not in SERVING and not is_optional(name)
    )


def degraded(components: dict[str, dict[str, Any]]) -> list[str]:
    """Components serving with less than they should: an optional one down, or degraded."""
    down = set(failing(components))
    return sorted(
        name
        for name, c in components.items()
        if c["status"] not in ("healthy", "disabled") and name not in down
    )


def models_summary(components: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Whether any model answers: the tutor is ready while one backend of a chain serves."""
    backends = {
        k.split(":", 1)[1]: v["status"] for k, v in components.items() if k.startswith("llm:")
    }
    serving = [name for name, status in backends.items() if status == "healthy"]
    if not backends or not serving:
        status = "unhealthy"
    else:
        status = "healthy" if len(serving) == len(backends) else "degraded"
    return {"status": status, "serving": serving, "backends": backends}


def disabled(reason: str) -> Probe:
    async def probe() -> dict[str, Any]:
        return {"status": "disabled", "detail": reason}

    return probe


def vector_store_summary(components: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One `vector_store` entry over the `shard:<subject>` components (the seed's shape)."""
    shards = {k.split(":", 1)[1]: v for k, v in components.items() if k.startswith("shard:")}
    healthy = [s for s in shards.values() if s["status"] == "healthy"]
    status = "healthy" if len(healthy) == len(shards) else "degraded" if healthy else "unhealthy"
    return {
        "status": status if shards else "unhealthy",
        "documents": sum(s.get("documents", 0) for s in healthy),
        "shards": shards,
    }


def fold_shards(components: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Shards reported under `vector_store`: one damaged subject degrades it, not readiness."""
    rest = {k: v for k, v in components.items() if not k.startswith("shard:")}
    return {**rest, "vector_store": vector_store_summary(components)}


def openai_summary(components: dict[str, dict[str, Any]], configured: bool) -> dict[str, Any]:
    """The seed's `openai` entry: the OpenAI tiers' health, or why there are none."""
    if not configured:
        return {
            "status": "disabled",
            "detail": "OPENAI_API_KEY unset: every route uses the local model",
        }
    tiers = {k: v["status"] for k, v in components.items() if v.get("backend") == "openai"}
    healthy = [name for name, status in tiers.items() if status == "healthy"]
    status = "healthy" if len(healthy) == len(tiers) else "degraded" if healthy else "unhealthy"
    return {"status": status if tiers else "unhealthy", "tiers": tiers}
