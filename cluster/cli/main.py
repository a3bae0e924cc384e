"""The `tutor` command line: run the cluster, build indexes, search, migrate, prepare and
fine-tune models."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import yaml

from cluster import launcher
from cluster.cli import releases
from cluster.cli.answer_eval import HeldOut, select
from cluster.cli.answer_eval import run as run_answers
from cluster.cli.common import admin_token, fail
from cluster.cli.finetune import finetune
from cluster.settings import get_settings
from evaluation.answers import read_questions
from evaluation.tally import Column
from evaluation.tally import as_json as answers_json
from evaluation.tally import report as answer_report
from retrieval.pipeline import SearchParams

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
models_app = typer.Typer(no_args_is_help=True, help="Prepare the models the graph serves.")
app.add_typer(models_app, name="models")
eval_app = typer.Typer(no_args_is_help=True, help="Measure retrieval and routing offline.")
app.add_typer(eval_app, name="eval")
app.command()(finetune)
for command in (releases.deploy, releases.verify, releases.rollback, releases.releases):
    app.command()(command)

IndexDir = Annotated[Path | None, typer.Option(help="Default: $DATA_DIR/indexes.")]


class SearchModeChoice(StrEnum):
    dense = "dense"
    keyword = "keyword"
    hybrid = "hybrid"
    rerank = "rerank"


SERVED_MODE = SearchModeChoice(SearchParams().mode)


@app.command()
def up(
    config: Annotated[Path, typer.Option(help="Base serve config (with config/<env>.yaml).")] = (
        Path("serve_config.yaml")
    ),
    env: releases.EnvChoice = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for HEALTHY.")] = 900,
    num_cpus: Annotated[int, typer.Option(help="CPUs the head offers.")] = os.cpu_count() or 2,
    listen: Annotated[
        str, typer.Option(help="Address for the HTTP proxy and dashboard (0.0.0.0 in a container).")
    ] = "127.0.0.1",
    foreground: Annotated[
        bool, typer.Option(help="Stay running until SIGTERM/SIGINT, then stop (containers).")
    ] = False,
) -> None:
    """Start a local Ray head (if none runs) and release CONFIG on it (recorded, not verified:
    `tutor deploy` verifies), waiting until every node is healthy."""
    if not config.is_file():
        fail(f"no such config: {config}")
    outcome = releases.start(config, env, listen, timeout, None, head_cpus=num_cpus)
    releases.finish(outcome)
    head = launcher.head_for(get_settings())
    url = launcher.http_url(yaml.safe_load(outcome.release.config))
    typer.echo(f"page:      {url}/  (sign in with `tutor token USER_ID`)")
    typer.echo(f"tutor:     {url}/api/v1/ai-tutor/query")
    typer.echo(f"dashboard: {head.dashboard_url}")
    if foreground:
        launcher.wait_for_stop_signal()
        typer.echo(f"stopped {launcher.stop_head(head)} process(es)")


@app.command()
def down() -> None:
    """Stop the Ray head that `tutor up` started (only its processes)."""
    stopped = launcher.stop_head(launcher.head_for(get_settings()))
    typer.echo(f"stopped {stopped} process(es)" if stopped else "no tutor Ray head was running")


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Deployment statuses of the running application."""
    head = launcher.head_for(get_settings())
    if not launcher.is_running(head):
        fail("no tutor Ray head is running (start one with `tutor up`)", code=1)
    app_state = launcher.applications(head).get(launcher.APP_NAME, {})
    statuses = launcher.deployment_statuses(app_state)
    if as_json:
        typer.echo(json.dumps({"status": app_state.get("status"), "deployments": statuses}))
        return
    typer.echo(f"application {launcher.APP_NAME}: {app_state.get('status', 'NOT DEPLOYED')}")
    for name, state in sorted(statuses.items()):
        typer.echo(f"  {name:28} {state}")


class RoleChoice(StrEnum):
    student = "student"
    teacher = "teacher"
    admin = "admin"
    service = "service"


TTL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def parse_ttl(text: str) -> int:
    number, unit = text[:-1], text[-1:]
    if unit not in TTL_UNITS or not number.isdigit() or int(number) <= 0:
        fail(f"--ttl {text!r}: a positive number with s, m, h or d (e.g. 1h)")
    return int(number) * TTL_UNITS[unit]


@app.command()
def token(
    user_id: Annotated[str, typer.Argument(help="The token's subject: the user it speaks for.")],
    role: Annotated[RoleChoice, typer.Option(help="What the user may do.")] = RoleChoice.student,
    ttl: Annotated[str, typer.Option(help="Lifetime: 30m, 1h, 7d...")] = "1h",
    classes: Annotated[
        str, typer.Option(help="Comma-separated class ids (a teacher reads their students').")
    ] = "",
) -> None:
    """Print a bearer token the running cluster accepts (development, or a shared secret)."""
    from access.tokens import SUBJECT, mint

    if not SUBJECT.match(user_id):
        fail(f"user id {user_id!r}: 1-128 of letters, digits and _.@-")
    config = get_settings().token_config()
    if config is None or not config.secret:
        fail("tokens come from your identity provider here (AUTH_MODE=off, or a public key/JWKS)")
    assert config is not None
    ids = tuple(c.strip() for c in classes.split(",") if c.strip())
    typer.echo(mint(config, user_id, role.value, parse_ttl(ttl), ids))


@app.command()
def migrate(
    status: Annotated[bool, typer.Option(help="List pending migrations; apply none.")] = False,
    backup: Annotated[
        bool, typer.Option(help="pg_dump to $DATA_DIR/backups before applying (the way back).")
    ] = True,
) -> None:
    """Apply pending SQL migrations to DATABASE_URL (forward only; one migrator at a time)."""
    from cluster.storage.migrate import migrate_with_backup, pending

    settings = get_settings()
    if settings.database_url is None:
        fail("DATABASE_URL is not set")
    url = str(settings.database_url)
    if status:
        waiting = pending(url)
        typer.echo(f"pending: {', '.join(waiting)}" if waiting else "database is up to date")
        return
    backups = settings.data_dir.resolve() / "backups" if backup else None
    applied, dump = migrate_with_backup(url, backups)
    if dump is not None:
        typer.echo(f"backup: {dump} (psql -f it into an empty database to go back)")
    typer.echo(f"applied: {', '.join(applied)}" if applied else "database is up to date")


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="JSONL or JSONL.gz corpus files.")],
    subject: Annotated[str | None, typer.Option(help="Put every document in this shard.")] = None,
    index_dir: IndexDir = None,
    on_error: Annotated[str, typer.Option(help="skip: ingest the good lines; abort: none.")] = (
        "skip"
    ),
    upsert: Annotated[
        bool, typer.Option(help="Add or replace these documents in the published shards.")
    ] = False,
) -> None:
    """Publish a new shard version per subject found in PATHS: a full rebuild (new epoch),
    or with --upsert an update that embeds only these documents."""
    from cluster.cli.ingest import run_ingest

    if on_error not in ("skip", "abort"):
        fail("--on-error must be skip or abort")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        fail(f"no such file: {', '.join(missing)}")
    index = index_dir or get_settings().index_dir
    sys.exit(run_ingest(paths, subject, index, on_error, upsert))


@app.command()
def remove(
    subject: Annotated[str, typer.Option(help="The shard to remove documents from.")],
    doc_ids: Annotated[list[str], typer.Argument(help="Document ids.")],
    index_dir: IndexDir = None,
) -> None:
    """Delete documents by id: publishes a new version where they are tombstoned."""
    from cluster.cli.ingest import run_remove

    sys.exit(run_remove(subject, doc_ids, index_dir or get_settings().index_dir))


@app.command("backup")
def backup_indexes(
    destination: Annotated[Path, typer.Argument(help="A directory that does not exist yet.")],
    index_dir: IndexDir = None,
) -> None:
    """Copy every shard's current version (verified against its checksums) to DESTINATION."""
    from retrieval.lifecycle import backup
    from retrieval.store import ShardStore

    if destination.exists():
        fail(f"{destination} exists; back up into a new directory")
    for manifest in backup(ShardStore(index_dir or get_settings().index_dir), destination):
        typer.echo(f"{manifest.subject}: {manifest.version_name} -> {destination}")


@app.command("restore")
def restore_indexes(
    source: Annotated[Path, typer.Argument(help="A directory written by `tutor backup`.")],
    index_dir: IndexDir = None,
) -> None:
    """Publish the backed-up versions as each shard's next version (after verifying them)."""
    from retrieval.errors import RetrievalError
    from retrieval.lifecycle import restore
    from retrieval.store import ShardStore

    try:
        restored = restore(ShardStore(index_dir or get_settings().index_dir), source)
    except RetrievalError as exc:
        fail(str(exc))
    for manifest in restored:
        typer.echo(f"{manifest.subject}: restored as {manifest.version_name}")


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(help="One query (or use --queries).")] = None,
    queries: Annotated[Path | None, typer.Option(help="JSONL file with a `query` per line.")] = (
        None
    ),
    subject: Annotated[str | None, typer.Option()] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=100)] = 10,
    index_dir: IndexDir = None,
    mode: Annotated[
        SearchModeChoice, typer.Option(help="Default: what the graph serves.")
    ] = SERVED_MODE,
    reranker: Annotated[Path | None, typer.Option(help="Default: $DATA_DIR/models/reranker.")] = (
        None
    ),
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Search the indexes in this process (no Ray): one JSON line per query with --json."""
    from cluster.cli.search import run_search

    if (query is None) == (queries is None):
        fail("give either QUERY or --queries FILE")
    settings = get_settings()
    run_search(
        query,
        queries,
        subject,
        k,
        index_dir or settings.index_dir,
        mode.value,
        as_json,
        reranker or settings.models_dir / "reranker",
    )


@models_app.command("prepare")
def models_prepare(
    force: Annotated[bool, typer.Option(help="Rebuild even if present.")] = False,
) -> None:
    """Convert the shipped SmolLM2 GGUF into a vLLM-servable directory under $DATA_DIR/models."""
    from models.prepare import prepare_smollm2

    prepared = prepare_smollm2(get_settings().models_dir / "smollm2-135m-instruct", force=force)
    typer.echo(f"{prepared.version} at {prepared.path}")


@eval_app.command("retrieval")
def eval_retrieval(
    queries: Annotated[Path, typer.Option(help="JSONL with `query` and `gold` ids per line.")],
    index_dir: IndexDir = None,
    modes: Annotated[str, typer.Option(help="Comma-separated modes to compare.")] = (
        "dense,keyword,hybrid,rerank"
    ),
    reranker_dir: Annotated[
        Path | None, typer.Option(help="Default: $DATA_DIR/models/reranker if present.")
    ] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=100)] = 10,
    params: Annotated[
        str | None,
        typer.Option(
            help="Search settings as the Router's user_config `search` JSON, e.g. "
            '\'{"rerank_top_n": 50, "fusion": {"keyword_weight": 1.0}}\' (mode is per column).'
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Recall@1/5/10, MRR, nDCG@10 and latency percentiles for each search mode, side by side."""
    from cluster.cli.evaluate import parse_params, run_eval

    settings = get_settings()
    default_reranker = settings.models_dir / "reranker"
    reranker = reranker_dir or (default_reranker if default_reranker.is_dir() else None)
    chosen = [m.strip() for m in modes.split(",") if m.strip()]
    if reranker is None and "rerank" in chosen and modes == "dense,keyword,hybrid,rerank":
        chosen.remove("rerank")  # the default list without a reranker model: compare the rest
    index = index_dir or settings.index_dir
    run_eval(queries, index, chosen, reranker, k, as_json, params=parse_params(params))


@eval_app.command("answers")
def eval_answers(
    questions: Annotated[Path, typer.Option(help="JSONL of questions with known answers.")],
    url: Annotated[str, typer.Option(help="A running tutor.")] = "http://127.0.0.1:8000",
    backends: Annotated[
        str, typer.Option(help="Comma-separated backends; `routed`: the routing policy.")
    ] = "routed",
    modes: Annotated[
        str, typer.Option(help="Comma-separated answer-check modes: off, flag, repair.")
    ] = "off,repair",
    token: Annotated[
        str | None, typer.Option(help="An admin token; default: one minted here (development).")
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, help="Questions in flight at once, per column.")
    ] = 4,
    forms: Annotated[
        str, typer.Option(help="Comma-separated parts of form names, e.g. `atomic,synonym`.")
    ] = "",
    subjects: Annotated[
        str, typer.Option(help="Comma-separated subjects; `none`: the unanswerable questions.")
    ] = "",
    held_out: Annotated[
        HeldOut, typer.Option(help="Only the held-out forms, all but them, or all.")
    ] = HeldOut.all,
    limit: Annotated[int | None, typer.Option(help="Only the first N questions.")] = None,
    show_wrong: Annotated[int, typer.Option(help="List this many wrong answers a column.")] = 5,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Right answers, the answer check's label precision and verdicts, and latency, per
    subject and form (held-out forms apart) for each backend and answer-check mode, asked of
    a running tutor over HTTP and judged from outside (data/eval/answer_forms.md)."""
    chosen = [None if b.strip() == "routed" else b.strip() for b in backends.split(",")]
    mode_list = [m.strip() for m in modes.split(",") if m.strip()]
    form_parts, subject_list = (
        [part.strip() for part in text.split(",") if part.strip()] for text in (forms, subjects)
    )
    items = select(read_questions(questions), form_parts, subject_list, held_out)
    items = items[:limit] if limit else items
    if not items:
        fail(f"no question of {questions} passes the filters")

    def progress(column: Column) -> None:
        if not as_json:
            typer.echo(answer_report([column], 0) + "\n", err=True)

    bearer = token or admin_token()
    columns = run_answers(url, bearer, items, chosen, mode_list, concurrency, progress)
    typer.echo(answers_json(columns) if as_json else answer_report(columns, show_wrong))


@eval_app.command("routing")
def eval_routing(
    labels: Annotated[Path, typer.Option(help="JSONL with `question` and `label` per line.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Accuracy, per-class precision and recall of the query classifier on a labelled set."""
    from dataclasses import asdict

    from models.routing_eval import evaluate, format_report, read_labels

    report = evaluate(read_labels(labels))
    if as_json:
        body = asdict(report) | {
            "confusion": {f"{t}->{p}": n for (t, p), n in report.confusion.items()}
        }
        typer.echo(json.dumps(body))
        return
    typer.echo(format_report(report))
