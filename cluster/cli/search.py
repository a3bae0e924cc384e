"""`tutor search`: the retrieval path in this process, for people and for evaluation scripts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import typer

from cluster.settings import make_embedder
from retrieval.errors import RetrievalError
from retrieval.local import LocalRetriever
from retrieval.pipeline import SearchParams
from retrieval.reranker import CrossEncoderReranker, Reranker


def read_queries(path: Path) -> Iterator[str]:
    """The `query` of each JSON line; a bad line stops the run naming its number."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield str(json.loads(line)["query"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                typer.secho(f"error: {path}:{number}: not a JSON object with a `query`", err=True)
                raise typer.Exit(2) from exc


def load_reranker(reranker_dir: Path | None) -> CrossEncoderReranker:
    if reranker_dir is None or not (reranker_dir / "config.json").is_file():
        typer.secho(
            f"error: --mode rerank needs a reranker model; none at {reranker_dir}", err=True
        )
        raise typer.Exit(2)
    return CrossEncoderReranker(reranker_dir)


def open_retriever(index_dir: Path, reranker: Reranker | None) -> LocalRetriever:
    """The index's shards with the configured embedder; a shard that cannot be used (damaged,
    or embedded by another model) stops the command with the reason."""
    try:
        return LocalRetriever.from_index_dir(index_dir, make_embedder(), reranker)
    except RetrievalError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc


def run_search(
    query: str | None,
    queries: Path | None,
    subject: str | None,
    k: int,
    index_dir: Path,
    mode: str,
    as_json: bool,
    reranker_dir: Path | None = None,
) -> None:
    params = SearchParams.model_validate({"mode": mode})
    reranker = load_reranker(reranker_dir) if mode == "rerank" else None
    retriever = open_retriever(index_dir, reranker)
    retriever.params = params
    texts = [query] if query is not None else list(read_queries(queries or Path()))
    for text in texts:
        try:
            hits = retriever.search(text, subject, k)
        except RetrievalError as exc:
            typer.secho(f"error: {exc}", fg="red", err=True)
            raise typer.Exit(2) from exc
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "query": text,
                        "ids": [h.doc_id for h in hits],
                        "scores": [round(h.score, 6) for h in hits],
                    }
                )
            )
            continue
        typer.echo(f"# {text}")
        for rank, hit in enumerate(hits, start=1):
            typer.echo(f"{rank:3}. {hit.score:8.4f}  {hit.doc_id}  {hit.text[:80]}")
