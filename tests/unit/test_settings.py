import pytest
from pydantic import ValidationError

from cluster import launcher
from cluster.settings import Settings


def test_development_starts_with_no_services_configured(monkeypatch):
    for name in ("REDIS_URL", "DATABASE_URL", "OPENAI_API_KEY", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.environment == "development" and settings.redis_url is None


def test_production_refuses_a_placeholder_key_and_names_it(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-changeme")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("DATABASE_URL", "postgresql://127.0.0.1:5432/test")
    with pytest.raises(ValidationError, match="OPENAI_API_KEY is a placeholder"):
        Settings(_env_file=None)


def test_staging_requires_redis_and_postgres(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "staging")
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(ValidationError, match="REDIS_URL must be set"):
        Settings(_env_file=None)


def test_a_malformed_url_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://nope")
    with pytest.raises(ValidationError, match="database_url"):
        Settings(_env_file=None)


def test_the_head_takes_http_with_haproxy_on_its_own_ports_unless_told_otherwise(monkeypatch):
    monkeypatch.setenv("TUTOR_HAPROXY_STATS_PORT", "18404")
    monkeypatch.setenv("TUTOR_HAPROXY_METRICS_PORT", "19101")
    env = launcher.ingress_env(launcher.head_for(Settings(_env_file=None)))
    assert env == {
        "RAY_SERVE_ENABLE_HA_PROXY": "1",
        "RAY_SERVE_HAPROXY_STATS_PORT": "18404",
        "RAY_SERVE_HAPROXY_METRICS_PORT": "19101",
    }
    monkeypatch.setenv("TUTOR_SERVE_INGRESS", "proxy")
    assert launcher.ingress_env(launcher.head_for(Settings(_env_file=None))) == {}


def test_the_operators_ray_auth_mode_wins_over_the_local_default(monkeypatch, tmp_path):
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    settings = Settings(_env_file=None)
    assert launcher.cluster_env(settings, env_file=None)["RAY_AUTH_MODE"] == "disabled"
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    assert launcher.cluster_env(settings, env_file=None)["RAY_AUTH_MODE"] == "token"
    env_file = tmp_path / ".env"
    env_file.write_text("RAY_AUTH_MODE=token\n")
    monkeypatch.delenv("RAY_AUTH_MODE")
    assert launcher.cluster_env(settings, env_file=env_file)["RAY_AUTH_MODE"] == "token"


def production(monkeypatch, **env: str) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("DATABASE_URL", "postgresql://127.0.0.1:5432/test")
    for name in ("AUTH_MODE", "AUTH_JWT_SECRET", "AUTH_JWT_PUBLIC_KEY", "AUTH_JWKS_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_production_refuses_open_or_unsigned_auth_and_names_the_variable(monkeypatch):
    production(monkeypatch, AUTH_MODE="off")
    with pytest.raises(ValidationError, match="AUTH_MODE=off is for development only"):
        Settings(_env_file=None)
    for secret in (None, "changeme", "too-short"):
        production(monkeypatch, **({"AUTH_JWT_SECRET": secret} if secret else {}))
        with pytest.raises(ValidationError, match="AUTH_JWT_SECRET must be a real secret"):
            Settings(_env_file=None)
    production(monkeypatch, AUTH_JWKS_URL="https://idp.school.test/jwks.json")
    config = Settings(_env_file=None).token_config()
    assert config is not None and config.jwks_url and config.secret is None


def test_development_makes_its_signing_secret_once_and_keeps_it_private(monkeypatch, tmp_path):
    monkeypatch.delenv("AUTH_JWT_SECRET", raising=False)
    first = Settings(data_dir=tmp_path, _env_file=None).token_config()
    second = Settings(data_dir=tmp_path, _env_file=None).token_config()
    assert first is not None and second is not None and first.secret == second.secret
    assert ((tmp_path / "auth" / "jwt-secret").stat().st_mode & 0o777) == 0o600
