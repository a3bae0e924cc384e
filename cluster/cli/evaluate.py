"""`tutor eval retrieval`: score each search mode on a queries file, printed side by side."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import get_args

import typer

from cluster.cli.search import open_retriever
from retrieval.evaluation import ModeReport, evaluate, read_cases
from retrieval.fusion import SearchMode
from retrieval.pipeline import SearchParams
from retrieval.reranker import CrossEncoderReranker, Reranker

MODES: tuple[str, ...] = get_args(SearchMode)


def check_modes(modes: Sequence[str], reranker_dir: Path | None) -> str | None:
    """What is wrong with the requested modes, or None."""
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        return f"unknown mode(s) {', '.join(unknown)}; choose from {', '.join(MODES)}"
    if "rerank" in modes and reranker_dir is None:
        return "mode rerank needs --reranker-dir (a CrossEncoder directory)"
    if reranker_dir is not None and not (reranker_dir / "config.json").is_file():
        return f"{reranker_dir} is not a model directory (no config.json)"
    return None


def parse_params(text: str | None) -> SearchParams | None:
    """--params: the `search` block of the Router's user_config, as JSON; exit 2 if invalid."""
    if text is None:
        return None
    try:
        return SearchParams.model_validate_json(text)
    except ValueError as exc:
        typer.secho(f"error: --params: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc


def format_table(reports: Sequence[ModeReport]) -> str:
    """Metrics as rows, modes as columns, so the modes read side by side."""
    names = list(reports[0].row()) if reports else []
    width = max([len(n) for n in names] + [len("queries")])
    lines = [f"{'':{width}}" + "".join(f"{r.mode:>10}" for r in reports)]
    lines.append(f"{'queries':{width}}" + "".join(f"{r.queries:>10}" for r in reports))
    for name in names:
        fmt = ".1f" if name.endswith("_ms") else ".4f"
        lines.append(f"{name:{width}}" + "".join(f"{r.row()[name]:>10{fmt}}" for r in reports))
    return "\n".join(lines)


def as_json_object(reports: Sequence[ModeReport], queries: Path, k: int) -> str:
    modes = {r.mode: {"queries": r.queries, **r.row()} for r in reports}
    return json.dumps({"queries_file": str(queries), "k": k, "modes": modes}, indent=2)


def run_eval(
    queries: Path,
    index_dir: Path,
    modes: list[str],
    reranker_dir: Path | None,
    k: int,
    as_json: bool,
    *,
    params: SearchParams | None = None,
) -> None:
    """Evaluate `modes` on the JSONL `queries` ({"query", "gold"}) against `index_dir`.

    `params` (fusion weights, candidate counts, rerank_top_n) default to `SearchParams()`, what
    the graph serves; only their mode is replaced per column.
    """
    problem = check_modes(modes, reranker_dir)
    if problem is not None:
        typer.secho(f"error: {problem}", fg="red", err=True)
        raise typer.Exit(2)
    reranker: Reranker | None = CrossEncoderReranker(reranker_dir) if reranker_dir else None
    retriever = open_retriever(index_dir, reranker)
    if not retriever.shards:
        typer.secho(f"error: no published shards under {index_dir}", fg="red", err=True)
        raise typer.Exit(2)
    retriever.params = params or retriever.params
    reports = evaluate(retriever, read_cases(queries), modes, k)
    typer.echo(as_json_object(reports, queries, k) if as_json else format_table(reports))
