"""`tutor ingest` and `tutor remove`: files -> shards, with a progress bar and a line-numbered
error report; by default a full rebuild per subject, with --upsert an incremental update."""

from __future__ import annotations

from pathlib import Path

import redis.asyncio as aioredis
import typer

from cluster.redis_client import configured_redis
from cluster.settings import get_settings, make_embedder
from response_cache.invalidation import after_publish
from retrieval.corpus import CorpusReport, read_documents
from retrieval.ingest import IngestAborted, OnError, group_by_subject, ingest
from retrieval.lifecycle import Changes, apply_update
from retrieval.store import Manifest, ShardStore


def shared_cache() -> aioredis.Redis | None:
    return configured_redis(get_settings())


def say_manifest(m: Manifest) -> None:
    tombstones = f", {m.tombstones} tombstoned rows" if m.tombstones else ""
    typer.echo(
        f"{m.subject}: {m.version_name} {m.documents} documents, {m.passages} passages, "
        f"{m.index_kind} index{tombstones}"
    )


def say_changes(subject: str, changes: Changes) -> None:
    typer.echo(
        f"{subject}: {len(changes.added)} added, {len(changes.updated)} updated, "
        f"{len(changes.deleted)} deleted"
    )
    if changes.unknown:
        typer.secho(
            f"{subject}: not found, not deleted: {', '.join(changes.unknown)}",
            fg="yellow",
            err=True,
        )


def report_errors(report: CorpusReport) -> None:
    for error in report.errors:
        typer.secho(f"skipped {error}", fg="yellow", err=True)


def run_ingest(
    paths: list[Path], subject: str | None, index_dir: Path, on_error: str, upsert: bool = False
) -> int:
    """Returns the exit status: 0 clean, 1 published with skipped lines, 2 aborted."""
    policy: OnError = "abort" if on_error == "abort" else "skip"
    store = ShardStore(index_dir)
    if upsert:
        return run_upsert(paths, subject, store, policy)
    try:
        result = ingest(paths, store, make_embedder(), subject, policy)
    except IngestAborted as exc:
        for error in exc.report.errors:
            typer.secho(f"  {error}", err=True)
        typer.secho(f"error: {exc}", fg="red", err=True)
        return 2
    report_errors(result.report)
    for manifest in result.manifests:
        say_manifest(manifest)
    rebuilt = {m.subject for m in result.manifests}
    typer.echo(after_publish(shared_cache, set(), rebuilt))
    return 1 if result.report.errors else 0


def run_upsert(paths: list[Path], subject: str | None, store: ShardStore, policy: OnError) -> int:
    report = CorpusReport()
    groups = group_by_subject(read_documents(paths, report, subject))
    if report.errors and policy == "abort":
        typer.secho(f"error: {IngestAborted(report)}", fg="red", err=True)
        return 2
    missing = sorted(set(groups) - set(store.subjects()))
    if missing:
        typer.secho(
            f"error: no published shard to update for {missing}; ingest without --upsert first",
            fg="red",
            err=True,
        )
        return 2
    embedder = make_embedder()
    touched: set[str] = set()
    for name, docs in sorted(groups.items()):
        manifest, changes = apply_update(store, name, docs, set(), embedder)
        say_changes(name, changes)
        say_manifest(manifest)
        touched |= changes.touched
    report_errors(report)
    typer.echo(after_publish(shared_cache, touched, set()))
    return 1 if report.errors else 0


def run_remove(subject: str, doc_ids: list[str], index_dir: Path) -> int:
    store = ShardStore(index_dir)
    if subject not in store.subjects():
        typer.secho(f"error: no published shard {subject!r}", fg="red", err=True)
        return 2
    manifest, changes = apply_update(store, subject, [], set(doc_ids), make_embedder())
    say_changes(subject, changes)
    say_manifest(manifest)
    typer.echo(after_publish(shared_cache, changes.touched, set()))
    return 1 if changes.unknown else 0
