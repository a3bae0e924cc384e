"""Shards on disk: versioned directories, a manifest written last, an atomically swapped pointer.

    <index_dir>/<subject>/CURRENT              name of the serving version, replaced atomically
    <index_dir>/<subject>/versions/v000003/    passages.jsonl, dense.faiss,
                                               keyword/, manifest.json (last, with checksums)

A reader follows CURRENT and verifies every checksum, so an interrupted build (no manifest,
no CURRENT change) or a damaged file is refused at load and the previous version keeps serving.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from retrieval import dense
from retrieval.errors import ShardLoadError
from retrieval.keyword import KeywordIndex
from retrieval.shard import Passage, Shard
from retrieval.structure import Structure

MANIFEST = "manifest.json"
STRUCTURE = "structure.json"
CURRENT = "CURRENT"
CHANGES = "changes.json"


@dataclass(frozen=True)
class Lineage:
    """Where a version comes from: its epoch, the version it updates, and what changed."""

    epoch: str
    parent: int | None = None
    changes: dict[str, list[str]] = field(default_factory=dict)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str
    version: int
    documents: int
    passages: int
    embedding_model: str
    dimension: int
    index_kind: dense.IndexKind
    built_at: datetime
    checksums: dict[str, str]
    epoch: str = Field(
        "", description="Changes on a full rebuild, kept by incremental updates (cache keys)."
    )
    parent: int | None = Field(None, description="The version this one was derived from.")
    tombstones: int = Field(0, description="Rows of changed or deleted documents, skipped.")
    changed: dict[str, int] = Field(
        default_factory=dict, description="Documents added/updated/deleted (ids: changes.json)."
    )

    @property
    def version_name(self) -> str:
        return f"v{self.version:06d}"

    def require_embedding_model(self, expected: str) -> None:
        """Vectors of two models are not comparable: a shard embedded by another model would
        rank the wrong passages, silently, so it is refused by name."""
        if self.embedding_model != expected:
            raise ShardLoadError(
                self.subject,
                f"{self.version_name} was embedded with {self.embedding_model}, but the embedder "
                f"here is {expected}: re-ingest with it, or embed with {self.embedding_model}",
            )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksums(directory: Path) -> dict[str, str]:
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST)
    return {str(p.relative_to(directory)): sha256_of(p) for p in files}


class ShardStore:
    """Publishes and loads shard versions under one index directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def subjects(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / CURRENT).is_file())

    def current_manifest(self, subject: str) -> Manifest:
        version_dir = self._current_dir(subject)
        return read_manifest(subject, version_dir)

    def load(self, subject: str, embedding_model: str | None = None) -> tuple[Shard, Manifest]:
        """The published version of `subject`. Given `embedding_model`, a version embedded by
        another model is refused from its manifest, before its files are read."""
        version_dir = self._current_dir(subject)
        manifest = read_manifest(subject, version_dir)
        if embedding_model is not None:
            manifest.require_embedding_model(embedding_model)
        verify_checksums(subject, version_dir, manifest)
        shard = read_shard(subject, version_dir)
        shard.version, shard.epoch = manifest.version_name, manifest.epoch
        return shard, manifest

    def publish(
        self, shard: Shard, embedding_model: str, lineage: Lineage | None = None
    ) -> Manifest:
        """Write `shard` as the next version, then point CURRENT at it.

        Without `lineage` this is a new epoch (a full build); with one, an incremental update
        of `lineage.parent` whose changed document ids go to changes.json.
        """
        subject_dir = self.root / shard.subject
        (subject_dir / "versions").mkdir(parents=True, exist_ok=True)
        version = self._next_version(subject_dir)
        staging = Path(tempfile.mkdtemp(prefix=".building-", dir=subject_dir / "versions"))
        write_shard(shard, staging)
        lineage = lineage or Lineage(epoch=f"{shard.subject}-{version}-{uuid.uuid4().hex[:8]}")
        write_json(staging / CHANGES, lineage.changes)
        manifest = Manifest(
            subject=shard.subject,
            version=version,
            documents=len(shard.document_ids),
            passages=len(shard.passages),
            embedding_model=embedding_model,
            dimension=int(shard.dense_index.d),
            index_kind=dense.index_kind(shard.dense_index),
            built_at=datetime.now(UTC),
            checksums=checksums(staging),
            epoch=lineage.epoch,
            parent=lineage.parent,
            tombstones=shard.tombstones,
            changed={kind: len(ids) for kind, ids in lineage.changes.items()},
        )
        return self._swap_in(subject_dir, staging, manifest)

    def _swap_in(self, subject_dir: Path, staging: Path, manifest: Manifest) -> Manifest:
        write_atomically(staging / MANIFEST, manifest.model_dump_json(indent=2))
        staging.rename(subject_dir / "versions" / manifest.version_name)
        write_atomically(subject_dir / CURRENT, manifest.version_name)
        return manifest

    def publish_copy(self, version_dir: Path, manifest: Manifest) -> Manifest:
        """Publish a verified copy of another version directory (a restore) as the next one."""
        subject_dir = self.root / manifest.subject
        (subject_dir / "versions").mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".restoring-", dir=subject_dir / "versions"))
        shutil.copytree(version_dir, staging, dirs_exist_ok=True)
        (staging / MANIFEST).unlink()
        renumbered = manifest.model_copy(update={"version": self._next_version(subject_dir)})
        return self._swap_in(subject_dir, staging, renumbered)

    def changes(self, subject: str) -> dict[str, list[str]]:
        """The document ids the current version added, updated or deleted (empty: full build)."""
        path = self._current_dir(subject) / CHANGES
        return dict(json.loads(path.read_text())) if path.is_file() else {}

    def current_dir(self, subject: str) -> Path:
        return self._current_dir(subject)

    def _current_dir(self, subject: str) -> Path:
        pointer = self.root / subject / CURRENT
        if not pointer.is_file():
            raise ShardLoadError(subject, f"no published version under {pointer.parent}")
        return self.root / subject / "versions" / pointer.read_text().strip()

    @staticmethod
    def _next_version(subject_dir: Path) -> int:
        names = [p.name for p in (subject_dir / "versions").glob("v[0-9]*")]
        return max((int(n[1:]) for n in names), default=0) + 1


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False))


def write_shard(shard: Shard, directory: Path) -> None:
    with (directory / "passages.jsonl").open("w", encoding="utf-8") as handle:
        for p in shard.passages:
            handle.write(json.dumps([p.doc_id, p.title, p.text], ensure_ascii=False) + "\n")
    faiss.write_index(
        faiss.index_gpu_to_cpu(shard.dense_index) if on_gpu(shard) else shard.dense_index,
        str(directory / "dense.faiss"),
    )
    shard.keyword.save(directory / "keyword")
    # What the answer check and the exact look-up know of the entries, versioned with them.
    write_atomically(directory / STRUCTURE, shard.structure.model_dump_json())
    if shard.tombstones:
        np.save(directory / "deleted.npy", shard.deleted)


def on_gpu(shard: Shard) -> bool:
    return "Gpu" in type(shard.dense_index).__name__


def read_manifest(subject: str, version_dir: Path) -> Manifest:
    try:
        return Manifest.model_validate_json((version_dir / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise ShardLoadError(subject, f"{version_dir.name} has no manifest") from exc
    except ValidationError as exc:
        raise ShardLoadError(subject, f"{version_dir.name} manifest is invalid: {exc}") from exc


def verify_checksums(subject: str, version_dir: Path, manifest: Manifest) -> None:
    for name, expected in manifest.checksums.items():
        path = version_dir / name
        if not path.is_file():
            raise ShardLoadError(subject, f"{version_dir.name}/{name} is missing")
        if sha256_of(path) != expected:
            raise ShardLoadError(subject, f"{version_dir.name}/{name} is corrupt (checksum)")


def read_shard(subject: str, version_dir: Path) -> Shard:
    with (version_dir / "passages.jsonl").open(encoding="utf-8") as handle:
        passages = [Passage(d, subject, t, x) for d, t, x in map(json.loads, handle)]
    index = faiss.read_index(str(version_dir / "dense.faiss"))
    keyword = KeywordIndex.load(version_dir / "keyword", len(passages))
    deleted_path = version_dir / "deleted.npy"
    deleted = np.load(deleted_path) if deleted_path.is_file() else None
    structure_path = version_dir / STRUCTURE
    structure = (
        Structure.model_validate_json(structure_path.read_text(encoding="utf-8"))
        if structure_path.is_file()
        else None  # written before structures were: learnt again from its passages on use
    )
    return Shard(subject, passages, index, keyword, deleted, structure)
