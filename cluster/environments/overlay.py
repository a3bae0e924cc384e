"""An environment's overlay (`config/staging.yaml`): what differs from the base serve config.

Operations only (replicas, autoscaling, resources, user_config, logging level, which model
tiers run) and non-secret settings for the replicas; secrets stay in the environment/.env.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cluster.environments.errors import ConfigFileError
from cluster.settings import Environment, LogLevel, Settings

# Settings an overlay may not carry: secrets and where the data lives belong to the
# environment, not to a file in the repository (nor to the release history, which keeps the
# rendered config).
FORBIDDEN_SETTINGS = frozenset(
    {
        "OPENAI_API_KEY",
        "AUTH_JWT_SECRET",
        "DATABASE_URL",
        "REDIS_URL",
        "DATA_DIR",
        "ENVIRONMENT",
    }
)


class Autoscaling(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_replicas: int | None = Field(None, ge=0)
    max_replicas: int | None = Field(None, ge=1)
    initial_replicas: int | None = Field(None, ge=0)
    target_ongoing_requests: float | None = Field(None, gt=0)
    upscale_delay_s: float | None = Field(None, ge=0)
    downscale_delay_s: float | None = Field(None, ge=0)


class DeploymentOverlay(BaseModel):
    """Merged into the base config's entry of the same name (user_config key by key)."""

    model_config = ConfigDict(extra="forbid")

    num_replicas: int | None = Field(None, ge=1)
    max_surge_percent: int | None = Field(None, ge=0, le=100)
    graceful_shutdown_timeout_s: float | None = Field(None, ge=0)
    max_ongoing_requests: int | None = Field(None, ge=1)
    autoscaling_config: Autoscaling | None = None
    ray_actor_options: dict[str, float | int] | None = None
    user_config: dict[str, Any] | None = None


class Overlay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    log_level: LogLevel | None = None
    tiers: list[str] | None = Field(
        None, min_length=1, description="The model backends deployed; default: every one."
    )
    settings: dict[str, str | int | float | bool] = Field(default_factory=dict)
    deployments: dict[str, DeploymentOverlay] = Field(default_factory=dict)


def overlay_path(config_dir: Path, environment: Environment) -> Path:
    return config_dir / f"{environment}.yaml"


def load_overlay(path: Path) -> Overlay:
    """The overlay at PATH, validated: an error names the file and the key."""
    if not path.is_file():
        raise ConfigFileError(path, "", "no such overlay (one per ENVIRONMENT, see --env)")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigFileError(path, "", f"not YAML: {exc}") from exc
    try:
        overlay = Overlay.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise ConfigFileError(path, key, first["msg"]) from exc
    check_settings(path, overlay.settings)
    return overlay


def check_settings(path: Path, values: dict[str, str | int | float | bool]) -> None:
    """Each key must be a variable the Settings read, with a value they accept."""
    known = settings_variables()
    for name, value in values.items():
        key = f"settings.{name}"
        if name in FORBIDDEN_SETTINGS:
            raise ConfigFileError(path, key, "set it in the environment or .env, not here")
        if name not in known:
            raise ConfigFileError(path, key, "not a setting (docs/CONFIGURATION.md lists them)")
        try:
            Settings.model_validate({known[name]: value, "environment": "development"})
        except ValidationError as exc:
            raise ConfigFileError(path, key, exc.errors()[0]["msg"]) from exc


def settings_variables() -> dict[str, str]:
    """Environment variable -> the Settings field it sets."""
    variables = {}
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        variables[alias if isinstance(alias, str) else name.upper()] = name
    return variables
