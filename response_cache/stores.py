"""Where cached answers live: the `ResponseCache` protocol and its two stores, Redis (shared by
every router replica) and one process's memory.

Entries are JSON under `tutor:cache:entry:<key>` with their TTL; each document id an entry
cites tags it (`tutor:cache:doc:<id>`), so a curriculum change drops exactly those entries.
Question vectors are kept beside the entries; each replica holds a FAISS index of them for
semantic lookup, built from Redis at start and kept in step through a Redis stream of puts
and drops, which it reads (without blocking) before every lookup.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import faiss
import numpy as np
import redis.asyncio as aioredis

from response_cache.rules import CacheEntry
from retrieval.embedder import Vectors

PREFIX = "tutor:cache:"
STREAM = PREFIX + "log"
STREAM_LENGTH = 100_000
TAG_TTL_S = 31 * 86_400  # outlives every entry it may tag


class ResponseCache(Protocol):
    """Shared answers. `exact` is a key lookup; `similar` returns stored entries whose question
    embedding is nearest to `vector`, with their cosine similarity, best first. `put` stores an
    entry for its TTL (tagged with its sources' document ids); `drop_documents` removes every
    entry that cited one of `doc_ids`, `drop_subjects` every entry citing a subject's
    documents (a full rebuild), each returning how many. Failures of the store raise; the
    caller treats them as a miss."""

    kind: str

    async def exact(self, key: str) -> CacheEntry | None: ...

    async def similar(self, vector: Vectors, k: int) -> list[tuple[CacheEntry, float]]: ...

    async def put(self, entry: CacheEntry, vector: Vectors | None) -> None: ...

    async def drop_documents(self, doc_ids: set[str]) -> int: ...

    async def drop_subjects(self, subjects: set[str]) -> int: ...


class VectorIndex:
    """A replica's FAISS index of cached questions, by entry key."""

    def __init__(self) -> None:
        self._index: faiss.IndexIDMap2 | None = None
        self._ids: dict[str, int] = {}
        self._keys: dict[int, str] = {}
        self._next = 0

    def add(self, key: str, vector: Vectors) -> None:
        if key in self._ids:
            return
        vector = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        if self._index is None:
            self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(vector.shape[1]))
        self._ids[key], self._keys[self._next] = self._next, key
        self._index.add_with_ids(vector, np.array([self._next], np.int64))
        self._next += 1

    def remove(self, keys: list[str]) -> None:
        ids = [self._ids.pop(k) for k in keys if k in self._ids]
        for i in ids:
            del self._keys[i]
        if ids and self._index is not None:
            self._index.remove_ids(np.array(ids, np.int64))  # type: ignore[arg-type]

    def nearest(self, vector: Vectors, k: int) -> list[tuple[str, float]]:
        if self._index is None or self._index.ntotal == 0:
            return []
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(query, min(k, self._index.ntotal))
        return [(self._keys[i], float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def __len__(self) -> int:
        return len(self._ids)


class RedisResponseCache:
    kind = "redis"

    def __init__(self, client: aioredis.Redis) -> None:
        # Any: redis-py types replies as bytes | str (decode_responses); this client gets bytes.
        self._redis: Any = client
        self._index = VectorIndex()
        self._last_event = "0-0"
        self._loaded = False

    async def exact(self, key: str) -> CacheEntry | None:
        raw = await self._redis.get(PREFIX + "entry:" + key)
        return None if raw is None else CacheEntry.model_validate_json(raw)

    async def similar(self, vector: Vectors, k: int) -> list[tuple[CacheEntry, float]]:
        await self._sync()
        found = self._index.nearest(vector, k)
        if not found:
            return []
        raws = await self._redis.mget([PREFIX + "entry:" + key for key, _ in found])
        expired = [key for (key, _), raw in zip(found, raws, strict=True) if raw is None]
        self._index.remove(expired)
        return [
            (CacheEntry.model_validate_json(raw), score)
            for (_, score), raw in zip(found, raws, strict=True)
            if raw is not None
        ]

    async def put(self, entry: CacheEntry, vector: Vectors | None) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(PREFIX + "entry:" + entry.key, entry.model_dump_json(), ex=entry.ttl_s)
            if vector is not None:
                pipe.set(
                    PREFIX + "vec:" + entry.key, vector.astype(np.float32).tobytes(), ex=entry.ttl_s
                )
            for tag in [
                *(f"doc:{d}" for d in entry.doc_ids),
                *(f"subject:{s}" for s in entry.subjects),
            ]:
                pipe.sadd(PREFIX + tag, entry.key)
                pipe.expire(PREFIX + tag, TAG_TTL_S)
            pipe.xadd(STREAM, {"op": "put", "key": entry.key}, maxlen=STREAM_LENGTH)
            await pipe.execute()
        if vector is not None:
            self._index.add(entry.key, vector)

    async def drop_documents(self, doc_ids: set[str]) -> int:
        return await self._drop_tagged([PREFIX + "doc:" + d for d in sorted(doc_ids)])

    async def drop_subjects(self, subjects: set[str]) -> int:
        return await self._drop_tagged([PREFIX + "subject:" + s for s in sorted(subjects)])

    async def _drop_tagged(self, tags: list[str]) -> int:
        if not tags:
            return 0
        keys = sorted(k.decode() for k in await self._redis.sunion(tags))
        if keys:
            doomed = [PREFIX + kind + k for k in keys for kind in ("entry:", "vec:")]
            await self._redis.delete(*doomed, *tags)
            await self._redis.xadd(
                STREAM, {"op": "drop", "key": " ".join(keys)}, maxlen=STREAM_LENGTH
            )
        self._index.remove(keys)
        return len(keys)

    async def _sync(self) -> None:
        """Bring this replica's index up to date: a full load once, then the stream's news."""
        if not self._loaded:
            await self._load()
        events = await self._redis.xread({STREAM: self._last_event}, count=1000)
        for _, messages in events:
            for event_id, fields in messages:
                self._last_event = event_id.decode()
                await self._apply(fields[b"op"].decode(), fields[b"key"].decode())

    async def _load(self) -> None:
        last = await self._redis.xrevrange(STREAM, count=1)
        self._last_event = last[0][0].decode() if last else "0-0"
        async for name in self._redis.scan_iter(match=PREFIX + "vec:*", count=500):
            await self._apply("put", name.decode().removeprefix(PREFIX + "vec:"))
        self._loaded = True

    async def _apply(self, op: str, keys: str) -> None:
        if op == "drop":
            self._index.remove(keys.split())
            return
        raw = await self._redis.get(PREFIX + "vec:" + keys)
        if raw is not None:
            self._index.add(keys, np.frombuffer(raw, dtype=np.float32))


class MemoryResponseCache:
    """The same behaviour in one process (a single replica, tests, the single-process baseline)."""

    kind = "memory"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[str, tuple[float, CacheEntry]] = {}
        self._index = VectorIndex()

    async def exact(self, key: str) -> CacheEntry | None:
        found = self._entries.get(key)
        if found is None or found[0] <= self._clock():
            return None
        return found[1]

    async def similar(self, vector: Vectors, k: int) -> list[tuple[CacheEntry, float]]:
        hits = []
        for key, score in self._index.nearest(vector, k):
            entry = await self.exact(key)
            if entry is not None:
                hits.append((entry, score))
        return hits

    async def put(self, entry: CacheEntry, vector: Vectors | None) -> None:
        self._entries[entry.key] = (self._clock() + entry.ttl_s, entry)
        if vector is not None:
            self._index.add(entry.key, vector)

    async def drop_documents(self, doc_ids: set[str]) -> int:
        return self._drop([k for k, (_, e) in self._entries.items() if set(e.doc_ids) & doc_ids])

    async def drop_subjects(self, subjects: set[str]) -> int:
        return self._drop([k for k, (_, e) in self._entries.items() if e.subjects & subjects])

    def _drop(self, doomed: list[str]) -> int:
        for key in doomed:
            del self._entries[key]
        self._index.remove(doomed)
        return len(doomed)
