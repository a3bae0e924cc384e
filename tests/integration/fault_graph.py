"""The serve config the fault suite and `benchmarks/faults.py` deploy: an OpenAI tier first in
every route with the local model behind it, a short call policy for the tier, a breaker that
probes again soon, and no response cache (every question must reach a model)."""

from __future__ import annotations

from typing import Any

REMOTE = "openai-fast"
# The remote tier's own call policy: one attempt, a first token within 1.5 s, else local.
REMOTE_CALLS = {"first_token_timeout_s": 1.5, "max_attempts": 1}
BREAKER = {"failure_threshold": 3, "open_s": 5}  # probe a dead tier again every 5 s


def edit_for_faults(config: dict[str, Any], policy: list[str] | None = None) -> None:
    """Edit a parsed serve_config.yaml in place."""
    app = config["applications"][0]
    app["args"]["llm_backends"] = {
        "local": {"type": "vllm", "model_dir": "smollm2-135m-instruct"},
        REMOTE: {"type": "openai", "model": "fake-model", "connect_timeout_s": 1},
    }
    for deployment in app["deployments"]:
        if deployment["name"] == "Ingress":  # two replicas: one may be killed
            deployment["autoscaling_config"]["min_replicas"] = 2
        if deployment["name"] == "Router":
            router = deployment["user_config"]
            router["policy"] = {"routes": {}, "default": policy or [REMOTE, "local"]}
            router["backend_calls"] = {REMOTE: REMOTE_CALLS}
            router["breaker"] = BREAKER
            router["cache"] = {"enabled": False}
            router["generation"]["max_tokens"] = 48
