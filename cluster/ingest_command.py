"""`tutor ingest`: files -> shards, with a progress bar and a line-numbered error report."""

from __future__ import annotations

from pathlib import Path

import typer

from retrieval.embedder import SentenceTransformerEmbedder
from retrieval.ingest import IngestAborted, OnError, ingest
from retrieval.store import ShardStore


def run_ingest(paths: list[Path], subject: str | None, index_dir: Path, on_error: str) -> int:
    """Returns the exit status: 0 clean, 1 published with skipped lines, 2 aborted."""
    policy: OnError = "abort" if on_error == "abort" else "skip"
    try:
        result = ingest(
            paths, ShardStore(index_dir), SentenceTransformerEmbedder(), subject, policy
        )
    except IngestAborted as exc:
        for error in exc.report.errors:
            typer.secho(f"  {error}", err=True)
        typer.secho(f"error: {exc}", fg="red", err=True)
        return 2
    for error in result.report.errors:
        typer.secho(f"skipped {error}", fg="yellow", err=True)
    for m in result.manifests:
        typer.echo(
            f"{m.subject}: {m.version_name} {m.documents} documents, {m.passages} passages, "
            f"{m.index_kind} index"
        )
    return 1 if result.report.errors else 0
