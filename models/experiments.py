"""A/B tests of routing strategies: a user is assigned to an arm deterministically by a hash,
so the same user always meets the same strategy while the experiment's weights stand."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.routing import RoutePolicy


class Arm(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weight: float = Field(gt=0, description="Relative share of users.")
    policy: RoutePolicy


class Experiment(BaseModel):
    """Arms with weights; renaming the experiment reshuffles every user (a new experiment)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    arms: dict[str, Arm] = Field(min_length=2)

    @model_validator(mode="after")
    def _names_are_labels(self) -> Experiment:
        bad = [a for a in self.arms if not a.replace("-", "").replace("_", "").isalnum()]
        if bad:
            raise ValueError(f"arm names must be letters, digits, - or _: {bad}")
        return self


def unit_interval(key: str) -> float:
    """A stable, uniform point in [0, 1) for a key (the first 8 bytes of its SHA-256)."""
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(experiment: Experiment, user_key: str) -> str:
    point = unit_interval(f"{experiment.name}:{user_key}") * sum(
        arm.weight for arm in experiment.arms.values()
    )
    for name, arm in sorted(experiment.arms.items()):
        if point < arm.weight:
            return name
        point -= arm.weight
    return sorted(experiment.arms)[-1]  # float rounding at the very top of the range
