"""`tutor up`, `deploy`, `verify`, `rollback` and `releases`: a release is rendered from the
serve config and the environment's overlay, recorded, applied with `serve deploy`, waited on
until healthy, verified, and rolled back when it fails."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import httpx
import typer
import yaml

from cluster import launcher
from cluster.cli.common import fail
from cluster.environments.errors import ConfigFileError
from cluster.environments.render import render_environment
from cluster.releases import facts
from cluster.releases.errors import ReleaseError
from cluster.releases.history import FileReleaseHistory, PostgresReleaseHistory, ReleaseHistory
from cluster.releases.records import Release, ReleaseFacts
from cluster.releases.rollout import Outcome, Rollout, VerifyRelease
from cluster.releases.verify import Verification, Verifier, load_smoke_set
from cluster.settings import Environment, Settings
from cluster.storage.migrate import migrate_with_backup

T = TypeVar("T")


def render(base: Path, settings: Settings, environment: Environment, listen: str) -> dict[str, Any]:
    try:
        config = render_environment(base, settings, environment)
    except ConfigFileError as exc:
        fail(str(exc))
    config.setdefault("http_options", {})["host"] = listen
    return config


def history_for(settings: Settings) -> ReleaseHistory:
    if settings.database_url is not None:
        return PostgresReleaseHistory(str(settings.database_url))
    return FileReleaseHistory(settings.release_history_dir)


def apply_migrations(settings: Settings) -> str:
    """Pending migrations first (a release may need them); returns the level reached."""
    if settings.database_url is None:
        return facts.migration_level(None)
    backups = settings.data_dir.resolve() / "backups"
    applied, dump = migrate_with_backup(str(settings.database_url), backups)
    if dump is not None:
        typer.echo(f"backup before migrating: {dump}")
    typer.echo(f"migrations applied: {', '.join(applied)}" if applied else "schema up to date")
    return facts.migration_level(str(settings.database_url))


def release_facts(config: dict[str, Any], settings: Settings, environment: str) -> ReleaseFacts:
    return ReleaseFacts(
        environment=environment,
        config=facts.as_yaml(config),
        code_revision=facts.code_revision(settings),
        model_versions=facts.model_versions(config, settings.models_dir),
        index_versions=facts.index_versions(settings.index_dir, facts.subjects_of(config)),
        migration_level=apply_migrations(settings),
        by=facts.who(),
    )


class ServeCluster:
    """The local head (or any Ray dashboard address) through `serve deploy` and its REST API."""

    def __init__(self, head: launcher.Head, env: dict[str, str], timeout_s: float) -> None:
        self.head, self.env, self.timeout_s = head, env, timeout_s

    def apply(self, config: Path) -> None:
        launcher.deploy(self.head, config, self.env)

    def wait_healthy(self, since: float) -> None:
        launcher.wait_until_running(self.head, self.timeout_s, since=since - 1)


def run_verification(
    url: str, token: str, smoke: Path, expected_models: dict[str, str] | None
) -> Verification:
    async def run() -> Verification:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
            return await Verifier(client, load_smoke_set(smoke)).run(expected_models)

    return asyncio.run(run())


def smoke_file(smoke: Path | None) -> Path:
    from cluster.settings import get_settings

    return smoke or get_settings().tutor_config_dir / "smoke.yaml"


def verifier(token: str, smoke: Path | None) -> VerifyRelease:
    def verify(release: Release) -> Verification:
        config = yaml.safe_load(release.config)
        return run_verification(
            launcher.http_url(config), token, smoke_file(smoke), release.model_versions
        )

    return verify


def rollout(
    settings: Settings, head: launcher.Head, timeout_s: float, verify: VerifyRelease | None
) -> Rollout:
    return Rollout(
        history=history_for(settings),
        cluster=ServeCluster(head, launcher.cluster_env(settings), timeout_s),
        verify=verify,
        work_dir=head.temp_dir / "releases",
        say=typer.echo,
        clock=time.time,
    )


def finish(outcome: Outcome) -> None:
    """Exit 0 when the release asked for is live; else 1, naming what happened."""
    if outcome.ok:
        return
    back = outcome.rolled_back_to
    if back is not None and back.is_live:
        fail(f"release {outcome.release.id} failed; release {back.id} is live again", code=1)
    fail(f"release {outcome.release.id} failed: {outcome.release.detail}", code=1)


def guarded(action: Callable[[], T]) -> T:
    try:
        return action()
    except ReleaseError as exc:
        fail(str(exc))


BaseConfig = Annotated[
    Path, typer.Option(help="The base serve config the environment's overlay applies to.")
]
EnvChoice = Annotated[
    Environment | None,
    typer.Option("--env", help="config/<env>.yaml's overlay; default: $ENVIRONMENT."),
]
Token = Annotated[str | None, typer.Option(help="An admin token; default: one minted here.")]
Smoke = Annotated[
    Path | None,
    typer.Option(help="The smoke questions and budgets; default: $TUTOR_CONFIG_DIR/smoke.yaml."),
]
Timeout = Annotated[float, typer.Option(help="Seconds to wait for every node to be healthy.")]


def start(
    config: Path,
    env: Environment | None,
    listen: str,
    timeout: float,
    verify: VerifyRelease | None,
    head_cpus: int | None = None,
) -> Outcome:
    """Render, record and apply a release on the local head (started first with HEAD_CPUS)."""
    from cluster.settings import get_settings

    settings = get_settings()
    environment = env or settings.environment
    rendered = render(config, settings, environment, listen)
    head = launcher.head_for(settings)
    if head_cpus is not None and not launcher.is_running(head):
        typer.echo(f"starting Ray head (temp dir {head.temp_dir})")
        launcher.start_head(head, launcher.cluster_env(settings), head_cpus, listen)
    elif not launcher.is_running(head):
        fail("no tutor Ray head is running (start one with `tutor up`)", code=1)
    plan = release_facts(rendered, settings, environment)
    return guarded(lambda: rollout(settings, head, timeout, verify).deploy(plan))


def deploy(
    config: BaseConfig = Path("serve_config.yaml"),
    env: EnvChoice = None,
    timeout: Timeout = 900,
    verify: Annotated[bool, typer.Option(help="Verify, and roll back on failure.")] = True,
    token: Token = None,
    smoke: Smoke = None,
) -> None:
    """Release CONFIG with the environment's overlay: record it, apply migrations, `serve
    deploy`, wait until healthy, verify; a release that fails is rolled back (exit 1)."""
    from cluster.cli.common import admin_token

    check = verifier(token or admin_token(), smoke) if verify else None
    finish(start(config, env, "127.0.0.1", timeout, check))


def verify(
    url: Annotated[str | None, typer.Option(help="Default: the live release's address.")] = None,
    token: Token = None,
    smoke: Smoke = None,
) -> None:
    """Ask the smoke questions, check health, versions and metrics; exit 1 naming failures."""
    from cluster.cli.common import admin_token
    from cluster.releases.history import last_live
    from cluster.settings import get_settings

    live = guarded(lambda: last_live(history_for(get_settings())))
    config = yaml.safe_load(live.config) if live else {}
    expected = live.model_versions if live else None
    result = run_verification(
        url or launcher.http_url(config), token or admin_token(), smoke_file(smoke), expected
    )
    for check in result.checks:
        typer.echo(check.line())
    typer.echo(result.summary())
    if not result.passed:
        raise typer.Exit(1)


def rollback(
    to: Annotated[int | None, typer.Option(help="A release id; default: the one before.")] = None,
    timeout: Timeout = 900,
    token: Token = None,
    smoke: Smoke = None,
) -> None:
    """Apply an earlier release's config again (recorded as a new release), then verify it."""
    from cluster.cli.common import admin_token
    from cluster.settings import get_settings

    settings = get_settings()
    head = launcher.head_for(settings)
    if not launcher.is_running(head):
        fail("no tutor Ray head is running (start one with `tutor up`)", code=1)
    plan = rollout(settings, head, timeout, verifier(token or admin_token(), smoke))
    finish(guarded(lambda: plan.rollback(to, facts.code_revision(settings))))


def releases(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    show: Annotated[int | None, typer.Option(help="Print this release's config.")] = None,
) -> None:
    """The release history, newest first; --show N prints what release N applied."""
    from cluster.settings import get_settings

    history = history_for(get_settings())
    if show is not None:
        release = guarded(lambda: history.get(show))
        typer.echo(release.model_dump_json(indent=1, exclude={"config"}))
        typer.echo(release.config)
        return
    for release in guarded(lambda: history.recent(limit)):
        typer.echo(release.line())
        if release.detail:
            typer.echo(f"      {release.detail[:300]}")
