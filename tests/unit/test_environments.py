"""The environments' overlays: what each renders, and errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from cluster.environments.errors import ConfigFileError
from cluster.environments.overlay import load_overlay
from cluster.environments.render import read_base, render, render_environment
from cluster.settings import Settings
from graphs.tutor import TutorAppArgs, deployable_backends
from tests.conftest import ROOT

BASES = [ROOT / "serve_config.yaml", ROOT / "serve_config.gpu.yaml"]
PROD_ENV = {
    "environment": "production",
    "redis_url": "redis://r:6379/0",
    "database_url": "postgresql://u@p:5432/t",
    "auth_jwt_secret": "s" * 40,
}


def settings(**values: object) -> Settings:
    return Settings.model_validate({"tutor_config_dir": ROOT / "config", **values})


def deployment(config: dict, name: str) -> dict:
    app = config["applications"][0]
    return next(d for d in app["deployments"] if d["name"] == name)


@pytest.mark.parametrize("base", BASES, ids=lambda p: p.name)
@pytest.mark.parametrize("environment", ["development", "staging", "production"])
def test_every_shipped_overlay_renders_over_both_serve_configs(base: Path, environment: str):
    config = render_environment(base, settings(), environment)  # type: ignore[arg-type]
    app = config["applications"][0]
    assert app["runtime_env"]["env_vars"]["ENVIRONMENT"] == environment
    assert TutorAppArgs.model_validate(app["args"])  # the builder accepts what was rendered


def test_production_runs_two_replicas_on_the_request_path_and_every_tier():
    config = render_environment(ROOT / "serve_config.yaml", settings(**PROD_ENV), "production")
    assert deployment(config, "Ingress")["autoscaling_config"]["min_replicas"] == 2
    assert deployment(config, "Router")["autoscaling_config"]["max_replicas"] == 8
    # the base's own values survive the merge
    assert deployment(config, "Router")["user_config"]["search"]["mode"] == "hybrid"
    assert config["applications"][0]["args"]["tiers"] == ["local", "openai-fast", "openai-strong"]


def test_the_development_overlay_leaves_the_graph_as_the_base_has_it():
    base = read_base(ROOT / "serve_config.yaml")
    config = render_environment(ROOT / "serve_config.yaml", settings(), "development")
    assert config["applications"][0]["deployments"] == base["applications"][0]["deployments"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "staging.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("deploymens: {}", "deploymens", "Extra inputs"),
        ("log_level: LOUD", "log_level", "Input should be"),
        (
            "deployments: {Ingress: {autoscaling_config: {min_replicas: -1}}}",
            "deployments.Ingress.autoscaling_config.min_replicas",
            "greater than or equal to 0",
        ),
        ("settings: {OPENAI_API_KEY: sk-x}", "settings.OPENAI_API_KEY", "not here"),
        ("settings: {SESION_TTL_S: 5}", "settings.SESION_TTL_S", "not a setting"),
        ("settings: {SESSION_TTL_S: -5}", "settings.SESSION_TTL_S", "greater than 0"),
        ("settings: {CACHE_TTL: soon}", "settings.CACHE_TTL", "integer"),
    ],
)
def test_a_bad_overlay_is_refused_naming_the_file_and_the_key(tmp_path, text, key, problem):
    path = write(tmp_path, text)
    with pytest.raises(ConfigFileError) as caught:
        load_overlay(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: ") and problem in message


def test_an_overlay_naming_a_deployment_the_base_lacks_is_refused(tmp_path):
    (tmp_path / "staging.yaml").write_text("deployments: {Ingres: {num_replicas: 2}}")
    with pytest.raises(ConfigFileError, match=r"staging.yaml: deployments.Ingres: not in the base"):
        render_environment(
            ROOT / "serve_config.yaml", settings(tutor_config_dir=tmp_path), "staging"
        )


def test_a_missing_overlay_names_the_path(tmp_path):
    with pytest.raises(ConfigFileError, match="production.yaml: no such overlay"):
        render_environment(
            ROOT / "serve_config.yaml", settings(tutor_config_dir=tmp_path), "production"
        )


def rendered(**values: object) -> dict:
    overlay = load_overlay(ROOT / "config" / "development.yaml")
    return render(read_base(ROOT / "serve_config.yaml"), overlay, settings(**values), "development")


def test_the_seed_variables_map_onto_serve_fields():
    config = rendered(REQUEST_TIMEOUT=30, MAX_WORKERS=4, CACHE_TTL=600)
    assert config["http_options"]["request_timeout_s"] == 30
    assert deployment(config, "Ingress")["autoscaling_config"]["max_replicas"] == 4
    ttl = deployment(config, "Router")["user_config"]["cache"]["ttl_s"]
    assert set(ttl.values()) == {600} and "curriculum" in ttl


def test_unset_seed_variables_keep_the_configs_own_values():
    config = rendered()
    assert config["http_options"]["request_timeout_s"] == 120
    assert "cache" not in deployment(config, "Router")["user_config"]


def test_rag_disabled_answers_without_passages_and_without_the_check():
    user_config = deployment(rendered(rag_enabled=False), "Router")["user_config"]
    assert user_config["generation"]["sources_in_prompt"] == 0
    assert user_config["grounding"]["mode"] == "off"


def test_debug_turns_the_log_level_to_debug_unless_log_level_is_set():
    assert rendered(debug=True)["logging_config"]["log_level"] == "DEBUG"
    # the environment wins over the overlay's own level (INFO in development.yaml)
    assert rendered(log_level="WARNING")["logging_config"]["log_level"] == "WARNING"
    assert rendered()["logging_config"]["log_level"] == "INFO"
    assert Settings(DEBUG="true").effective_log_level == "DEBUG"  # type: ignore[call-arg]
    assert Settings(DEBUG="true", LOG_LEVEL="ERROR").effective_log_level == "ERROR"  # type: ignore[call-arg]


@pytest.mark.parametrize("flag", [{"debug": True}, {"rag_enabled": False}])
def test_debug_and_rag_off_are_refused_outside_development(flag):
    with pytest.raises(ValidationError, match="development only"):
        Settings.model_validate({**PROD_ENV, **flag})


def test_tiers_choose_the_deployed_backends_and_unknown_ones_are_refused():
    args = TutorAppArgs(tiers=["local"])
    assert list(deployable_backends(args)) == ["local"]
    with pytest.raises(ValidationError, match=r"tiers \['gpt-9'\] are not backends"):
        TutorAppArgs(tiers=["local", "gpt-9"])


def test_the_rendered_config_is_what_serve_reads():
    text = yaml.safe_dump(rendered())
    assert yaml.safe_load(text)["applications"][0]["import_path"] == "graphs.tutor:build_app"
