"""The embedder node's batching, as an operator sets it in the serve config's user_config."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from deployments.embedder import EmbedderServer
from retrieval.embedder import Vectors


class OnesEmbedder:
    name = "ones"
    dimension = 4

    def embed(self, texts: list[str]) -> Vectors:
        return np.ones((len(texts), self.dimension), dtype=np.float32)


def test_the_operators_batching_reaches_serves_batch_queue() -> None:
    """Serve forms the batches (tested by Ray, and only inside a replica); what is the
    tutor's is that the serve config's values are the ones it batches with."""
    server = EmbedderServer(embedder=OnesEmbedder())
    server.reconfigure({"max_batch_size": 4, "batch_wait_timeout_s": 0.05})
    assert server.embed._get_max_batch_size() == 4  # type: ignore[attr-defined]
    assert server.embed._get_batch_wait_timeout_s() == 0.05  # type: ignore[attr-defined]


def test_a_misspelt_or_out_of_range_setting_is_refused_by_name() -> None:
    server = EmbedderServer(embedder=OnesEmbedder())
    with pytest.raises(ValidationError, match="batch_wait_timeout"):
        server.reconfigure({"batch_wait_timeout": 0.02})
    with pytest.raises(ValidationError, match="max_batch_size"):
        server.reconfigure({"max_batch_size": 0})
