"""`tutor search`: the retrieval path in this process, for people and for evaluation scripts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import typer

from retrieval.embedder import SentenceTransformerEmbedder
from retrieval.errors import RetrievalError
from retrieval.local import LocalRetriever


def read_queries(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)["query"]


def run_search(
    query: str | None,
    queries: Path | None,
    subject: str | None,
    k: int,
    index_dir: Path,
    mode: str,
    as_json: bool,
) -> None:
    retriever = LocalRetriever.from_index_dir(index_dir, SentenceTransformerEmbedder())
    retriever.params = retriever.params.model_copy(update={"mode": mode})
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
