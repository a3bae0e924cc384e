"""The one settings object: environment, secrets and paths, validated at start-up.

Every variable is documented in `.env.example` and `docs/CONFIGURATION.md`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, PostgresDsn, RedisDsn, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from access.secret import development_secret
from access.tokens import TokenConfig
from retrieval.embedder import SentenceTransformerEmbedder

Environment = Literal["development", "staging", "production"]

# Values copied from .env.example that must never reach staging or production.
PLACEHOLDER_SECRETS = frozenset({"changeme", "sk-changeme", "sk-...", "replace-me"})


# What takes HTTP on a head `tutor up` starts (see Settings.serve_ingress).
ServeIngress = Literal["haproxy", "proxy"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
# The project's root: where `config/` (the environments' overlays) lives in a checkout.
PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Process-wide configuration read from the environment (and `.env`, if present)."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", frozen=True, populate_by_name=True
    )

    environment: Environment = Field(
        "development", description="development relaxes the required services and secrets."
    )
    log_level: LogLevel = Field(
        "INFO", description="The tutor's loggers and Serve's log level (DEBUG with DEBUG=true)."
    )
    debug: bool = Field(False, description="Development only: LOG_LEVEL defaults to DEBUG.")
    # The seed's variables that shape the serve config `tutor deploy` renders (unset: the
    # config's own value); docs/CONFIGURATION.md says what each maps to.
    request_timeout_s: float | None = Field(
        None, gt=0, validation_alias="REQUEST_TIMEOUT", description="Serve's HTTP timeout."
    )
    cache_ttl_s: int | None = Field(
        None, gt=0, validation_alias="CACHE_TTL", description="Default per-class cache TTL."
    )
    max_workers: int | None = Field(
        None, ge=1, validation_alias="MAX_WORKERS", description="Ingress max_replicas."
    )
    rag_enabled: bool = Field(
        True, description="false (development only): the model answers without passages."
    )
    # Named as their variables (not aliased): with populate_by_name, pydantic-settings would
    # also read CONFIG_DIR, RELEASES_DIR and CODE_REVISION, names other tools use.
    tutor_config_dir: Path = Field(
        PROJECT_ROOT / "config",
        description="The environments' overlays: <dir>/<ENVIRONMENT>.yaml.",
    )
    tutor_code_revision: str | None = Field(
        None,
        description="Set in an image at build; default: the checkout's git commit.",
    )
    tutor_releases_dir: Path | None = Field(
        None,
        description="Release history without DATABASE_URL; default: $DATA_DIR/releases.",
    )
    data_dir: Path = Field(
        Path("var"), description="Where prepared models, indexes and Ray temp files live."
    )
    redis_url: RedisDsn | None = Field(
        None, description="Session store and shared caches; unset = embedded Ray actor store."
    )
    database_url: PostgresDsn | None = Field(
        None, description="Users and the request log; unset = request log disabled."
    )
    db_pool_max_size: int = Field(4, ge=1, le=100)
    redis_max_connections: int = Field(
        256,
        ge=1,
        le=10000,
        description="Connections each replica's Redis client may hold; a request past them "
        "waits for a free one (up to the client's 2 s timeout) rather than failing.",
    )
    embedder_model_path: Path | None = Field(
        None,
        description="A sentence-transformers directory to embed with (ingest, search, eval and "
        "the graph); unset = the shipped all-MiniLM-L6-v2. Shards serve only with the "
        "embedder they were built with.",
    )
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = Field(
        None, description="Any OpenAI-compatible server; unset = api.openai.com."
    )
    session_ttl_s: int = Field(3600, gt=0, description="Idle expiry of a session.")
    practice_item_ttl_s: int = Field(
        86_400, gt=0, description="How long a practice item can be checked (the practice TTL)."
    )
    cache_warmup_questions: int = Field(
        20, ge=0, description="Most asked questions answered at start to fill the cache; 0: off."
    )
    context_window_tokens: int = Field(
        768,
        ge=64,
        description="Conversation turns kept verbatim in a prompt; older ones are summarised.",
    )
    stream_batch_interval_ms: float = Field(
        50,
        ge=0,
        le=1000,
        description="An answer's tokens cross the graph's nodes in batches, at most one per "
        "this interval (the first at once); 0: each batch is only what has already arrived.",
    )
    # The local Ray head that `tutor up` starts. Ports off Ray's defaults: Redis owns 6379.
    gcs_port: int = Field(6390, validation_alias="TUTOR_GCS_PORT")
    dashboard_port: int = Field(8265, validation_alias="TUTOR_DASHBOARD_PORT")
    metrics_port: int = Field(8090, validation_alias="TUTOR_METRICS_PORT")
    ray_temp_dir: Path | None = Field(
        None, validation_alias="TUTOR_RAY_TEMP_DIR", description="Default: $DATA_DIR/ray."
    )
    serve_ingress: ServeIngress = Field(
        "haproxy",
        validation_alias="TUTOR_SERVE_INGRESS",
        description="What takes HTTP on the head: Serve's HAProxy mode (HAProxy straight to "
        "the ingress replicas), or Serve's Python proxy (one more hop, ~5 ms of CPU a request).",
    )
    auth_mode: Literal["jwt", "off"] = Field(
        "jwt", description="off: no tokens, every caller is an admin (development only)."
    )
    auth_jwt_secret: SecretStr | None = Field(
        None, description="HS256 shared secret; unset in development: one kept in DATA_DIR."
    )
    auth_jwt_public_key: str | None = Field(
        None, description="PEM public key of an identity provider (RS256/ES256)."
    )
    auth_jwks_url: str | None = Field(
        None, description="An identity provider's JWKS URL (RS256/ES256; keys cached)."
    )
    auth_issuer: str = Field("ai-tutor", description="The `iss` every token must carry.")
    auth_audience: str = Field("ai-tutor", description="The `aud` every token must carry.")
    auth_leeway_s: int = Field(30, ge=0, le=300, description="Clock skew allowed on exp/nbf.")
    haproxy_stats_port: int = Field(8404, validation_alias="TUTOR_HAPROXY_STATS_PORT")
    haproxy_metrics_port: int = Field(9101, validation_alias="TUTOR_HAPROXY_METRICS_PORT")

    @model_validator(mode="after")
    def _refuse_unsafe_outside_development(self) -> Settings:
        if self.environment == "development":
            return self
        for flag, unsafe in (("DEBUG", self.debug), ("RAG_ENABLED=false", not self.rag_enabled)):
            if unsafe:
                raise ValueError(f"{flag} is for development only, not {self.environment}")
        key = self.openai_api_key.get_secret_value() if self.openai_api_key else None
        if key is not None and key in PLACEHOLDER_SECRETS:
            raise ValueError(
                f"OPENAI_API_KEY is a placeholder; set a real key for {self.environment}"
            )
        for name in ("redis_url", "database_url"):
            if getattr(self, name) is None:
                raise ValueError(f"{name.upper()} must be set when ENVIRONMENT={self.environment}")
        self._refuse_open_auth()
        return self

    def _refuse_open_auth(self) -> None:
        if self.auth_mode == "off":
            raise ValueError(f"AUTH_MODE=off is for development only, not {self.environment}")
        if self.auth_jwt_public_key or self.auth_jwks_url:
            return
        secret = self.auth_jwt_secret.get_secret_value() if self.auth_jwt_secret else None
        if secret is None or secret in PLACEHOLDER_SECRETS or len(secret) < 32:
            raise ValueError(
                "AUTH_JWT_SECRET must be a real secret of 32+ characters (or set "
                f"AUTH_JWT_PUBLIC_KEY or AUTH_JWKS_URL) when ENVIRONMENT={self.environment}"
            )

    def token_config(self) -> TokenConfig | None:
        """How tokens verify here; None with AUTH_MODE=off. In development with no key set,
        the secret kept in DATA_DIR (made on first use)."""
        if self.auth_mode == "off":
            return None
        secret = self.auth_jwt_secret.get_secret_value() if self.auth_jwt_secret else None
        if secret is None and not (self.auth_jwt_public_key or self.auth_jwks_url):
            secret = development_secret(self.data_dir.resolve())
        return TokenConfig(
            issuer=self.auth_issuer,
            audience=self.auth_audience,
            secret=secret,
            public_key=None if secret else self.auth_jwt_public_key,
            jwks_url=None if secret or self.auth_jwt_public_key else self.auth_jwks_url,
            leeway_s=self.auth_leeway_s,
        )

    @property
    def effective_log_level(self) -> LogLevel:
        """LOG_LEVEL, or DEBUG when DEBUG=true and LOG_LEVEL was not set."""
        if self.debug and "log_level" not in self.model_fields_set:
            return "DEBUG"
        return self.log_level

    @property
    def stream_batch_interval_s(self) -> float:
        return self.stream_batch_interval_ms / 1000

    @property
    def release_history_dir(self) -> Path:
        return (self.tutor_releases_dir or self.data_dir / "releases").resolve()

    @property
    def index_dir(self) -> Path:
        return self.data_dir.resolve() / "indexes"

    @property
    def models_dir(self) -> Path:
        return self.data_dir.resolve() / "models"


def make_embedder() -> SentenceTransformerEmbedder:
    """The embedder the settings name, for the commands that build or search indexes."""
    return SentenceTransformerEmbedder(get_settings().embedder_model_path)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once; a bad value stops start-up naming the variable."""
    return Settings()
