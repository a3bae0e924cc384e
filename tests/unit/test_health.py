"""Readiness means "can answer": a fallback in use degrades, only an essential part unreadies."""

from __future__ import annotations

from typing import Any

from cluster.observability import health

UP: dict[str, Any] = {"status": "healthy"}
DOWN: dict[str, Any] = {"status": "unhealthy", "error": "ConnectionError: refused"}


def components(overrides: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    parts = {
        "session_store": UP,
        "redis": UP,
        "database": UP,
        "embedder": UP,
        "vector_store": UP,
        "llm:local": UP,
        "llm:openai-fast": UP,
        **overrides,
    }
    parts["models"] = health.models_summary(parts)
    return parts


def test_an_openai_tier_down_with_the_local_model_up_is_ready_and_degraded():
    parts = components({"llm:openai-fast": DOWN})
    assert health.failing(parts) == []
    assert health.overall_status(parts) == "degraded"
    assert parts["models"]["serving"] == ["local"]


def test_no_model_serving_is_not_ready():
    parts = components({"llm:local": DOWN, "llm:openai-fast": DOWN})
    assert health.failing(parts) == ["models"]
    assert health.overall_status(parts) == "unhealthy"


def test_redis_or_postgresql_down_degrades_but_stays_ready():
    parts = components({"redis": DOWN, "database": DOWN, "session_store": {"status": "degraded"}})
    assert health.failing(parts) == []
    assert health.overall_status(parts) == "degraded"
    assert health.degraded(parts) == ["database", "redis", "session_store"]


def test_the_embedder_or_the_router_down_is_not_ready():
    assert health.failing(components({"embedder": DOWN})) == ["embedder"]
    assert health.failing(components({"router": DOWN})) == ["router"]
