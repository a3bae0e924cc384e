"""Streams between nodes go in batches: fewer messages, same items, same order, same errors,
and a reader that stops early stops the source."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from deployments.llm import LLMServer
from deployments.stream_batches import batched, items_of, sent_as_asked
from models.backend import ChatMessage, GenerationChunk, GenerationRequest
from tests.fakes.llm import ScriptedBackend


async def timed(items: list[tuple[float, str]]) -> AsyncIterator[str]:
    """Each item after its delay (seconds since the previous one)."""
    for delay, item in items:
        await asyncio.sleep(delay)
        yield item


async def arrivals(source: AsyncIterator[list[str]]) -> list[tuple[float, list[str]]]:
    start = time.monotonic()
    return [(time.monotonic() - start, batch) async for batch in source]


async def test_a_burst_of_tokens_goes_as_two_messages_and_the_first_without_waiting() -> None:
    burst = [(0.0, f"t{n}") for n in range(30)]
    got = await arrivals(batched(timed(burst), interval_s=0.2))
    assert [item for _, batch in got for item in batch] == [f"t{n}" for n in range(30)]
    assert len(got) <= 2
    assert got[0][0] < 0.1  # the first token is not held back for an interval


async def test_the_rest_of_a_finished_stream_is_not_held_for_an_interval() -> None:
    burst = [(0.0, f"t{n}") for n in range(30)]
    got = await arrivals(batched(timed(burst), interval_s=1.0))
    assert [item for _, batch in got for item in batch] == [f"t{n}" for n in range(30)]
    assert got[-1][0] < 0.5  # the end came within milliseconds: so does its last batch


async def test_slow_items_go_one_by_one_with_no_added_delay() -> None:
    made: dict[str, float] = {}

    async def slow() -> AsyncIterator[str]:
        for item in ("a", "b", "c"):
            await asyncio.sleep(0.25)
            made[item] = time.monotonic()
            yield item

    got = [(time.monotonic(), batch) async for batch in batched(slow(), interval_s=0.1)]
    assert [batch for _, batch in got] == [["a"], ["b"], ["c"]]
    # Each as it came: an item after a quiet interval is not held back for another one.
    assert all(at - made[batch[0]] < 0.06 for at, batch in got)


async def test_a_steady_trickle_is_sent_at_most_once_per_interval() -> None:
    trickle = [(0.01, f"t{n}") for n in range(40)]  # ~0.4 s, one item each 10 ms
    got = await arrivals(batched(timed(trickle), interval_s=0.1))
    assert [item for _, batch in got for item in batch] == [f"t{n}" for n in range(40)]
    took = got[-1][0]
    assert len(got) <= took / 0.1 + 2  # one batch per 0.1 s, and the first at once
    gaps = [later - earlier for (earlier, _), (later, _) in zip(got, got[1:], strict=False)]
    # The last batch goes as soon as the stream ends, however soon after the one before
    # (the test above): only the batches before it are paced.
    assert min(gaps[:-1]) >= 0.09


async def test_an_error_comes_after_the_items_sent_before_it() -> None:
    async def breaks() -> AsyncIterator[str]:
        yield "a"
        yield "b"
        raise ConnectionError("upstream went away")

    seen: list[str] = []
    with pytest.raises(ConnectionError, match="upstream went away"):
        async for batch in batched(breaks(), interval_s=0.05):
            seen.extend(batch)
    assert seen == ["a", "b"]


async def test_a_reader_that_stops_early_stops_the_source() -> None:
    closed = asyncio.Event()

    async def endless() -> AsyncIterator[int]:
        n = 0
        try:
            while True:
                yield n
                n += 1
                await asyncio.sleep(0.01)
        finally:
            closed.set()

    stream = batched(endless(), interval_s=0.02)
    first = await anext(stream)
    assert first[0] == 0
    await stream.aclose()
    await asyncio.wait_for(closed.wait(), timeout=1.0)


async def test_an_empty_source_sends_nothing() -> None:
    assert await arrivals(batched(timed([]), interval_s=0.05)) == []


async def test_a_caller_from_before_stream_batching_gets_one_item_a_message() -> None:
    """Mid-upgrade, an older router or ingress asks without `batched_stream` and reads each
    message as one item; a newer one reads both shapes (`items_of`)."""
    burst = [(0.0, f"t{n}") for n in range(5)]
    old_way = [m async for m in sent_as_asked(timed(burst), False, interval_s=0.05)]
    assert old_way == [f"t{n}" for n in range(5)]
    new_way = [m async for m in sent_as_asked(timed(burst), True, interval_s=0.05)]
    assert all(isinstance(m, list) for m in new_way)
    assert [i for m in new_way for i in items_of(m)] == [i for m in old_way for i in items_of(m)]


# Serve awaits a replica's async __del__; outside Serve, Python's finalizer cannot.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_the_llm_node_answers_an_old_router_per_chunk_and_a_new_one_in_batches() -> None:
    server = LLMServer("openai-fast", {"type": "openai", "model": "fake-model"})
    server._backend = ScriptedBackend("Carbon has atomic number six.")  # as a loaded model
    request = GenerationRequest([ChatMessage("user", "What is carbon's atomic number?")])
    per_chunk = [m async for m in server.stream(request)]
    assert all(isinstance(m, GenerationChunk) for m in per_chunk)
    asked = replace(request, batched_stream=True)
    batches = [m async for m in server.stream(asked)]
    assert all(isinstance(m, list) for m in batches) and len(batches) < len(per_chunk)
    text = "".join(c.text for m in batches for c in items_of(m))
    assert text == "".join(c.text for c in per_chunk) == "Carbon has atomic number six. "
    del server
    gc.collect()  # finalized here, under this test's filter, not during a later test
