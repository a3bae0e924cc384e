"""A shard as a server holds it: loaded at start, swapped for a newer published version when one
appears, and never left empty by a bad version (the last good one keeps serving)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from retrieval import dense
from retrieval.embedder import Vectors
from retrieval.errors import ShardLoadError
from retrieval.shard import Shard, ShardCandidates
from retrieval.store import CURRENT, Manifest, ShardStore

log = logging.getLogger(__name__)


class ShardHolder:
    """`embedding_model`, when given, is the served embedder's name: a version embedded with
    another model is refused like a damaged one (its vectors would match the wrong passages)."""

    def __init__(
        self,
        subject: str,
        index_dir: Path,
        params: dense.DenseIndexParams,
        embedding_model: str | None = None,
    ) -> None:
        self.subject = subject
        self._embedding_model = embedding_model
        self._store = ShardStore(index_dir)
        self._params = params
        self._shard: Shard | None = None
        self._manifest: Manifest | None = None
        self._error: str | None = None
        self._lock = threading.Lock()  # one load at a time; searches never wait on it
        self.reload_if_changed()

    def _pointer(self) -> str | None:
        path = self._store.root / self.subject / CURRENT
        return path.read_text().strip() if path.is_file() else None

    def reload_if_changed(self) -> bool:
        """Load the published version if it is not the one held; True if it swapped."""
        with self._lock:
            pointer = self._pointer()
            if self._manifest is not None and pointer == self._manifest.version_name:
                return False
            try:
                shard, manifest = self._store.load(self.subject, self._embedding_model)
            except ShardLoadError as exc:
                # The problem alone: health names the subject, and `candidates` wraps it again.
                self._error = exc.problem
                log.error("%s (still serving %s)", exc, self.version or "nothing")
                return False
            shard.dense_index = dense.to_device(shard.dense_index, self._params)
            # Counted here, in the loading thread (~1 s for english), not by the first query;
            # so is the exact look-up's index of names and field values.
            log.info(
                "shard %s knows %d words, %d names and values",
                self.subject,
                len(shard.speller),
                len(shard.exact),
            )
            self._shard, self._manifest, self._error = shard, manifest, None
            log.info("shard %s now serves %s", self.subject, manifest.version_name)
            return True

    @property
    def version(self) -> str:
        return self._manifest.version_name if self._manifest else ""

    def set_ef_search(self, ef_search: int) -> None:
        if self._shard is not None:
            dense.set_ef_search(self._shard.dense_index, ef_search)

    def candidates(
        self, vector: Vectors | None, keywords: str, k_dense: int, k_keyword: int
    ) -> ShardCandidates:
        shard = self._shard  # one read: a concurrent swap cannot split a search
        if shard is None:
            raise ShardLoadError(self.subject, self._error or "not loaded")
        return shard.candidates(vector, keywords, k_dense, k_keyword)

    def health(self) -> dict[str, Any]:
        if self._manifest is None:
            return {"status": "unhealthy", "subject": self.subject, "error": self._error}
        m = self._manifest
        report: dict[str, Any] = {
            "status": "healthy",
            "subject": self.subject,
            "documents": m.documents,
            "passages": m.passages,
            "version": m.version_name,
            "epoch": m.epoch,
            "index_kind": m.index_kind,
            "tombstones": m.tombstones,
            "embedding_model": m.embedding_model,
        }
        if self._error is not None:  # a newer version exists but was refused
            report["refused_update"] = self._error
        return report
