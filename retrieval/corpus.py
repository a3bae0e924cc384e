"""Reading curriculum files in the corpus format (one JSON document a line, optionally gzipped)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from retrieval.errors import CorpusError


class Document(BaseModel):
    """One curriculum document; `subject` is the shard key, `id` is unique and stable."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(min_length=1, max_length=512)
    subject: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")
    title: str = Field(min_length=1)
    text: str = Field(min_length=1)
    source: str = ""
    license: str = ""


@dataclass
class CorpusReport:
    """What an ingest read: documents accepted and problems found, by line."""

    accepted: int = 0
    errors: list[CorpusError] = field(default_factory=list)


def open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open("r", encoding="utf-8")


def parse_line(path: Path, line_no: int, line: str) -> Document:
    try:
        return Document.model_validate(json.loads(line))
    except json.JSONDecodeError as exc:
        raise CorpusError(str(path), line_no, f"not JSON ({exc.msg})") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise CorpusError(str(path), line_no, problems) from exc


def read_documents(
    paths: Iterable[Path], report: CorpusReport, subject: str | None = None
) -> Iterator[Document]:
    """Yield valid documents, recording bad lines and duplicate ids in `report`.

    `subject`, when given, overrides each document's subject (ingesting a file into one shard).
    """
    seen: set[str] = set()
    for path in paths:
        with open_text(path) as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    doc = parse_line(path, line_no, line)
                except CorpusError as exc:
                    report.errors.append(exc)
                    continue
                if subject is not None:
                    doc = doc.model_copy(update={"subject": subject})
                if doc.id in seen:
                    report.errors.append(
                        CorpusError(str(path), line_no, f"duplicate id {doc.id!r}")
                    )
                    continue
                seen.add(doc.id)
                report.accepted += 1
                yield doc
