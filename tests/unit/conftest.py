"""Unit-test fixtures shared by the API tests over in-process nodes."""

from __future__ import annotations

import pytest

from retrieval.corpus import Document
from retrieval.dense import DenseIndexParams
from retrieval.ingest import build_shard
from retrieval.shard import Shard
from tests.fakes.hashing_embedder import HashingEmbedder


@pytest.fixture(scope="session")
def chemistry_shards(chemistry_docs: list[dict[str, str]]) -> dict[str, Shard]:
    """The demo chemistry curriculum as one shard, embedded with the hashing embedder."""
    docs = [Document.model_validate(d) for d in chemistry_docs]
    shard = build_shard("chemistry", docs, HashingEmbedder(), DenseIndexParams(), False)
    return {"chemistry": shard}
