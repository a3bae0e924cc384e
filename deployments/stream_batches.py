"""Streams between graph nodes sent in batches: one handle message per batch, not per token.

Each item a replica yields through a streaming handle call is a message of its own (pickled,
sent, acknowledged), and an answer's tokens cross two such hops (LLM node -> router ->
ingress). Batching them is what Ray Serve LLM does too (its `stream_batching_interval_ms`,
50 ms by default); its batcher is internal API and holds back the first token for a whole
interval, so the tutor has this one: the first item goes at once, later ones at most one
batch per interval, an item that arrives after a quiet interval goes at once too, and so does
the rest of a stream that has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar, cast

T = TypeVar("T")

_END = object()  # the source finished


class _Failed:
    """The source raised: carried through the queue so that it comes after earlier items."""

    def __init__(self, error: Exception) -> None:
        self.error = error


async def batched(source: AsyncIterator[T], interval_s: float) -> AsyncIterator[list[T]]:
    """SOURCE's items in order, in lists: whatever has arrived when a batch is sent, with no
    more than one batch per `interval_s`, except the last: once SOURCE ends, what is left goes
    at once (a JSON answer waits for its last token, not for an interval). An error of the
    source comes after the items it sent before it. Closing this generator cancels the
    reading of SOURCE (so a model stops generating an answer nobody reads)."""
    queue: asyncio.Queue[object] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for item in source:
                queue.put_nowait(item)
        except Exception as error:
            queue.put_nowait(_Failed(error))
        else:
            queue.put_nowait(_END)

    loop = asyncio.get_running_loop()
    reading = loop.create_task(pump())
    sent_at = float("-inf")
    try:
        while True:
            entries = [await queue.get()]
            wait_s = sent_at + interval_s - loop.time()
            if wait_s > 0 and not reading.done():  # a finished source's rest goes at once
                await asyncio.wait({reading}, timeout=wait_s)
            while not queue.empty():
                entries.append(queue.get_nowait())
            items = [cast(T, e) for e in entries if e is not _END and not isinstance(e, _Failed)]
            if items:
                yield items
                sent_at = loop.time()
            last = entries[-1]  # nothing follows the end or an error
            if isinstance(last, _Failed):
                raise last.error
            if last is _END:
                return
    finally:
        if not reading.done():
            reading.cancel()
        else:
            with contextlib.suppress(asyncio.CancelledError):
                reading.result()  # retrieved, so asyncio does not log it as never read


def items_of(message: T | list[T]) -> list[T]:
    """A message of a stream: a batch, or one item from a replica of a release before stream
    batching (both meet during a rolling upgrade)."""
    return message if isinstance(message, list) else [message]


async def sent_as_asked(
    source: AsyncIterator[T], batched_stream: bool, interval_s: float
) -> AsyncIterator[T | list[T]]:
    """SOURCE in batches when the caller asked for them, else one item a message."""
    if batched_stream:
        async for batch in batched(source, interval_s):
            yield batch
    else:
        async for item in source:
            yield item
