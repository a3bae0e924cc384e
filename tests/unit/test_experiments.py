"""A/B assignment: stable per user, shares that follow the weights, renaming reshuffles."""

from __future__ import annotations

from collections import Counter

from models.experiments import Experiment, assign

POLICY = {"routes": {}, "default": ["local"]}


def experiment(name: str = "routing-2026-12", a: float = 0.8, b: float = 0.2) -> Experiment:
    return Experiment.model_validate(
        {
            "name": name,
            "arms": {
                "control": {"weight": a, "policy": POLICY},
                "treatment": {"weight": b, "policy": POLICY},
            },
        }
    )


def test_a_user_always_gets_the_same_arm():
    exp = experiment()
    assert {assign(exp, "amina") for _ in range(50)} == {assign(exp, "amina")}


def test_arm_shares_follow_the_weights():
    shares = Counter(assign(experiment(), f"user-{n}") for n in range(10_000))
    assert 0.77 < shares["control"] / 10_000 < 0.83


def test_a_new_experiment_name_reshuffles_users():
    users = [f"user-{n}" for n in range(1000)]
    first = [assign(experiment("one", 0.5, 0.5), u) for u in users]
    second = [assign(experiment("two", 0.5, 0.5), u) for u in users]
    changed = sum(a != b for a, b in zip(first, second, strict=True))
    assert 400 < changed < 600  # independent draws: about half move
