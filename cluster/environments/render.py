"""The serve config an environment runs: the base config, its overlay, and the seed's variables
(REQUEST_TIMEOUT, MAX_WORKERS, CACHE_TTL, RAG_ENABLED, LOG_LEVEL) mapped onto Serve's fields.

The result is what `serve deploy` applies and what a release records, so every value that
shapes the running graph can be read in one file.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from cluster.environments.errors import ConfigFileError
from cluster.environments.overlay import DeploymentOverlay, Overlay, load_overlay, overlay_path
from cluster.settings import Environment, Settings
from response_cache.rules import CacheConfig

APP_NAME = "tutor"
INGRESS, ROUTER = "Ingress", "Router"


def read_base(path: Path) -> dict[str, Any]:
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigFileError(path, "", f"cannot read the serve config: {exc}") from exc
    if not any(app.get("name") == APP_NAME for app in config.get("applications", [])):
        raise ConfigFileError(path, "applications", f"no application named {APP_NAME!r}")
    return dict(config)


def render_environment(base: Path, settings: Settings, environment: Environment) -> dict[str, Any]:
    """Read and validate BASE and config/<environment>.yaml, and render them with SETTINGS."""
    path = overlay_path(settings.tutor_config_dir, environment)
    overlay = load_overlay(path)
    return render(read_base(base), overlay, settings, environment, path)


def render(
    base: dict[str, Any],
    overlay: Overlay,
    settings: Settings,
    environment: Environment,
    overlay_file: Path = Path("overlay"),
) -> dict[str, Any]:
    config = copy.deepcopy(base)
    app = next(a for a in config["applications"] if a.get("name") == APP_NAME)
    deployments = {d["name"]: d for d in app.setdefault("deployments", [])}
    for name, change in overlay.deployments.items():
        if name not in deployments:
            known = ", ".join(sorted(deployments))
            raise ConfigFileError(overlay_file, f"deployments.{name}", f"not in the base ({known})")
        merge_deployment(deployments[name], change)
    if overlay.tiers is not None:
        app.setdefault("args", {})["tiers"] = overlay.tiers
    log_level = log_level_of(overlay, settings)
    config.setdefault("logging_config", {})["log_level"] = log_level
    map_seed_variables(config, deployments, settings)
    env_vars = {k: str(v) for k, v in overlay.settings.items()}
    env_vars |= {"ENVIRONMENT": environment, "LOG_LEVEL": log_level}
    app.setdefault("runtime_env", {}).setdefault("env_vars", {}).update(env_vars)
    return config


def log_level_of(overlay: Overlay, settings: Settings) -> str:
    """The environment wins over the file: LOG_LEVEL or DEBUG if set, else the overlay's."""
    if settings.debug or "log_level" in settings.model_fields_set:
        return settings.effective_log_level
    return overlay.log_level or settings.log_level


def merge_deployment(entry: dict[str, Any], change: DeploymentOverlay) -> None:
    values = change.model_dump(exclude_none=True)
    for key, value in values.items():
        if key in ("autoscaling_config", "user_config", "ray_actor_options"):
            entry[key] = deep_merge(entry.get(key) or {}, value)
        else:
            entry[key] = value
    if "num_replicas" in values:
        entry.pop("autoscaling_config", None)  # Serve takes one or the other


def deep_merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def map_seed_variables(
    config: dict[str, Any], deployments: dict[str, dict[str, Any]], settings: Settings
) -> None:
    """REQUEST_TIMEOUT, MAX_WORKERS, CACHE_TTL and RAG_ENABLED, where they are set."""
    if settings.request_timeout_s is not None:
        config.setdefault("http_options", {})["request_timeout_s"] = settings.request_timeout_s
    ingress, router = deployments.get(INGRESS), deployments.get(ROUTER)
    if settings.max_workers is not None and ingress is not None:
        scaling = ingress.setdefault("autoscaling_config", {})
        scaling["max_replicas"] = settings.max_workers
        scaling["min_replicas"] = min(scaling.get("min_replicas", 1), settings.max_workers)
    if router is None:
        return
    user_config = router.setdefault("user_config", {})
    if settings.cache_ttl_s is not None:
        ttl = user_config.setdefault("cache", {}).setdefault("ttl_s", {})
        for query_class in CacheConfig().ttl_s:
            ttl.setdefault(query_class, settings.cache_ttl_s)
    if not settings.rag_enabled:
        user_config.setdefault("generation", {})["sources_in_prompt"] = 0
        user_config.setdefault("grounding", {})["mode"] = "off"
