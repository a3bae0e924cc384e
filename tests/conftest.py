"""Shared fixtures: small real slices of the project's demo curriculum, tiny indexes."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.corpus import Document
from retrieval.keyword import KeywordIndex
from retrieval.shard import Shard, keyword_text, passages_of

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
CURRICULUM = ROOT / "data" / "curriculum"


def shared_corpus(subject: str) -> Path | None:
    """A whole corpus from the workplace's shared folder (tests may read it; the project never
    does at run time): $TUTOR_SHARED_CORPORA, else ../shared/corpora beside the checkout."""
    candidates = [os.environ.get("TUTOR_SHARED_CORPORA"), ROOT.parent / "shared" / "corpora"]
    for folder in filter(None, candidates):
        path = Path(folder) / f"{subject}.jsonl.gz"
        if path.is_file():
            return path
    return None


def run_tutor(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """The `tutor` command of this environment, as an operator runs it; fails on a non-zero exit."""
    command = [str(Path(sys.executable).with_name("tutor")), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def bearer(
    user_id: str,
    role: str = "student",
    classes: tuple[str, ...] = (),
    data_dir: Path = ROOT / "var",
) -> dict[str, str]:
    """An Authorization header the graph accepts: minted with the development secret of
    `data_dir`, the one a graph started on that DATA_DIR verifies with."""
    from access.tokens import mint
    from cluster.settings import Settings

    config = Settings(data_dir=data_dir, _env_file=None).token_config()
    assert config is not None
    return {"Authorization": f"Bearer {mint(config, user_id, role, 3600, classes)}"}  # type: ignore[arg-type]


def read_docs(subject: str) -> list[dict[str, str]]:
    with gzip.open(CURRICULUM / f"{subject}.jsonl.gz", "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="session")
def chemistry_docs() -> list[dict[str, str]]:
    return read_docs("chemistry")


@pytest.fixture(scope="session")
def computing_docs() -> list[dict[str, str]]:
    return read_docs("computing")


def keyword_shard(subject: str, docs: list[dict[str, str]] | None = None) -> Shard:
    """A shard of a demo curriculum slice (or of `docs`) with its BM25 index only: keyword
    search without embedding anything."""
    rows = read_docs(subject) if docs is None else docs
    passages = passages_of(Document.model_validate(d) for d in rows)
    return Shard(subject, passages, None, KeywordIndex.build([keyword_text(p) for p in passages]))


def write_jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path
