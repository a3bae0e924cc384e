"""What a release runs with, read before it is applied: the code revision, each model
backend's version, each shard's published version and the schema's migration level."""

from __future__ import annotations

import getpass
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import yaml

from cluster.environments.render import APP_NAME
from cluster.settings import PROJECT_ROOT, Settings
from models.vllm_backend import manifest_version, resolve_model_dir
from retrieval.errors import RetrievalError
from retrieval.store import ShardStore

LLM_PREFIX = "LLM-"


def code_revision(settings: Settings, root: Path = PROJECT_ROOT) -> str:
    """The image's TUTOR_CODE_REVISION, else the checkout's commit (+dirty with local edits)."""
    if settings.tutor_code_revision:
        return settings.tutor_code_revision
    try:
        head = git(root, "rev-parse", "HEAD")
        dirty = git(root, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    done.check_returncode()
    return done.stdout.strip()


def model_versions(config: dict[str, Any], models_dir: Path) -> dict[str, str]:
    """Backend name -> the version its node will report (the vLLM manifest's, the OpenAI
    model's name). From the LLM nodes' user_config, over the app's `llm_backends` args."""
    app = next(a for a in config["applications"] if a["name"] == APP_NAME)
    specs: dict[str, dict[str, Any]] = dict(app.get("args", {}).get("llm_backends") or {})
    for deployment in app.get("deployments", []):
        name = deployment["name"]
        if name.startswith(LLM_PREFIX) and deployment.get("user_config"):
            backend = name.removeprefix(LLM_PREFIX)
            specs[backend] = {**specs.get(backend, {}), **deployment["user_config"]}
    return {name: version_of(spec, models_dir) for name, spec in specs.items()}


def version_of(spec: dict[str, Any], models_dir: Path) -> str:
    if spec.get("version"):
        return str(spec["version"])
    if "model_dir" in spec:
        return manifest_version(resolve_model_dir(str(spec["model_dir"]), models_dir))
    return str(spec.get("model", "unknown"))


def index_versions(index_dir: Path, subjects: list[str]) -> dict[str, str]:
    store = ShardStore(index_dir)
    versions = {}
    for subject in subjects:
        try:
            versions[subject] = store.current_manifest(subject).version_name
        except (RetrievalError, OSError):
            versions[subject] = "missing"
    return versions


def subjects_of(config: dict[str, Any]) -> list[str]:
    app = next(a for a in config["applications"] if a["name"] == APP_NAME)
    subjects = app.get("args", {}).get("subjects") or ["chemistry", "computing", "english"]
    return [str(s) for s in subjects]


def migration_level(database_url: str | None) -> str:
    """The newest migration applied (PostgreSQL), or the newest shipped when there is none."""
    if database_url is None:
        return "no database"
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT max(name) FROM schema_migrations").fetchone()
    return str(row[0]) if row and row[0] else "none"


def who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def as_yaml(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, sort_keys=False)
