"""Circuit breakers per backend: closed -> open -> half-open probe -> closed, shared by replicas.

A breaker opens after `failure_threshold` failures in a row, or when at least `min_calls` calls
in the last `window_s` seconds failed at `failure_rate` or more. After `open_s` it lets exactly
one probe through (half-open); the probe's outcome closes or reopens it. By default the probe is
a one-token call the router makes beside a question that skipped the tier (`ChainRunner.probe`),
not the student's question itself: a question that probed a hanging tier waited its whole
first-token timeout. State lives in Redis,
so one router replica's discovery protects all of them; without Redis each replica keeps its own.

Hand-written, not a library: purgatory (the maintained asyncio breaker with Redis storage)
counts consecutive failures only, lets every request through when half-open, and its Redis
extra pins redis<6 where this project runs redis 8.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import redis.asyncio as aioredis
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)
State = Literal["closed", "open", "half_open"]
STATE_CODE: dict[State, int] = {"closed": 0, "half_open": 1, "open": 2}
# The failure rate is judged on at most this many recent calls: enough for a rate, small enough
# that the shared snapshot stays a few KB however busy the backend is.
MAX_OUTCOMES = 200


class StoreUnavailable(Exception):
    """The shared breaker store cannot be reached."""


class BreakerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    failure_threshold: int = Field(5, ge=1, description="Consecutive failures that open it.")
    failure_rate: float = Field(0.5, gt=0, le=1, description="Failure share that opens it...")
    min_calls: int = Field(10, ge=1, description="...over at least this many calls...")
    window_s: float = Field(30, gt=0, description="...in this many recent seconds.")
    open_s: float = Field(15, gt=0, description="Time open before one probe is let through.")
    probe_in_background: bool = Field(
        True,
        description="Probe with a one-token call beside a question, never with the question.",
    )
    success_batch_s: float = Field(
        0.5,
        ge=0,
        description="A replica writes successes on a closed breaker at most this often (0: each).",
    )


@dataclass
class Snapshot:
    """A breaker's stored state: `opened_at` is set while open or half-open."""

    state: State = "closed"
    consecutive_failures: int = 0
    opened_at: float = 0.0
    probe_started: float = 0.0
    outcomes: list[tuple[float, bool]] | None = None  # (time, ok) within the window


def should_open(snap: Snapshot, config: BreakerConfig) -> bool:
    if snap.consecutive_failures >= config.failure_threshold:
        return True
    outcomes = snap.outcomes or []
    if len(outcomes) < config.min_calls:
        return False
    failures = sum(1 for _, ok in outcomes if not ok)
    return failures / len(outcomes) >= config.failure_rate


def after_outcome(snap: Snapshot, ok: bool, now: float, config: BreakerConfig) -> Snapshot:
    """The state after one call's outcome. Open, it is a call let through before it opened
    (here or on another replica): only the probe decides when an open breaker closes."""
    if snap.state == "open":
        return snap
    if snap.state == "half_open":
        return Snapshot() if ok else Snapshot("open", 0, now, 0.0, [])
    recent = [(t, o) for t, o in (snap.outcomes or []) if t > now - config.window_s]
    recent = [*recent[-(MAX_OUTCOMES - 1) :], (now, ok)]
    streak = 0 if ok else snap.consecutive_failures + 1
    updated = Snapshot("closed", streak, 0.0, 0.0, recent)
    if should_open(updated, config):
        return Snapshot("open", 0, now, 0.0, [])
    return updated


def after_outcomes(
    snap: Snapshot,
    batched_successes: list[float],
    outcome: tuple[float, bool] | None,
    config: BreakerConfig,
) -> Snapshot:
    """The state after a replica's held-back successes (times; they count only while the
    breaker is still closed: they were seen closed and are no evidence it recovered) and then
    one call's outcome, if any."""
    if snap.state == "closed":
        for at in batched_successes:
            snap = after_outcome(snap, True, at, config)
    if outcome is not None:
        snap = after_outcome(snap, outcome[1], outcome[0], config)
    return snap


def admission(
    snap: Snapshot, now: float, config: BreakerConfig, probe: bool = False
) -> tuple[bool, Snapshot]:
    """(may this call go ahead, the state to store). Open past its time admits one probe: with
    `probe_in_background`, only a call that says it is the probe."""
    if snap.state == "closed":
        return True, snap
    if config.probe_in_background and not probe:
        return False, snap
    probe_stale = now - snap.probe_started > config.open_s  # a probe that never reported back
    if snap.state == "half_open" and not probe_stale:
        return False, snap
    if snap.state == "open" and now - snap.opened_at < config.open_s:
        return False, snap
    return True, Snapshot("half_open", 0, snap.opened_at, now, [])


class BreakerStore(Protocol):
    """Reads and writes snapshots atomically per backend; `kind` says where they live."""

    kind: str

    async def update(
        self, backend: str, change: Callable[[Snapshot], tuple[bool, Snapshot]]
    ) -> bool: ...

    async def read(self, backend: str) -> Snapshot: ...


class MemoryBreakerStore:
    kind = "memory"

    def __init__(self) -> None:
        self._snapshots: dict[str, Snapshot] = {}

    async def update(
        self, backend: str, change: Callable[[Snapshot], tuple[bool, Snapshot]]
    ) -> bool:
        result, self._snapshots[backend] = change(self._snapshots.get(backend, Snapshot()))
        return result

    async def read(self, backend: str) -> Snapshot:
        return self._snapshots.get(backend, Snapshot())


class RedisBreakerStore:
    """One JSON snapshot per backend, changed under WATCH/MULTI so replicas never race.

    A change that keeps the snapshot (a call a closed breaker allows) writes nothing: under
    load every answer's admission was a transaction on the backend's one key, and concurrent
    ones kept failing and starting over (benchmarks/load/ found a third of the router's CPU
    in these updates).
    """

    kind = "redis"

    def __init__(self, client: aioredis.Redis, prefix: str = "tutor:breaker:") -> None:
        self._redis = client
        self._prefix = prefix

    async def read(self, backend: str) -> Snapshot:
        try:
            return decode(await self._redis.get(self._prefix + backend))
        except aioredis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def update(
        self, backend: str, change: Callable[[Snapshot], tuple[bool, Snapshot]]
    ) -> bool:
        try:
            return await self._update(backend, change)
        except aioredis.RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def _update(
        self, backend: str, change: Callable[[Snapshot], tuple[bool, Snapshot]]
    ) -> bool:
        key = self._prefix + backend
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    current = decode(await pipe.get(key))
                    result, snap = change(current)
                    if snap is current:
                        await pipe.unwatch()  # type: ignore[no-untyped-call]
                        return result
                    pipe.multi()  # type: ignore[no-untyped-call]
                    pipe.set(key, encode(snap), ex=3600)
                    await pipe.execute()
                    return result
                except aioredis.WatchError:
                    continue  # another replica changed it first: decide again on its state


def encode(snap: Snapshot) -> str:
    return json.dumps(
        [
            snap.state,
            snap.consecutive_failures,
            snap.opened_at,
            snap.probe_started,
            snap.outcomes or [],
        ]
    )


def decode(raw: bytes | str | None) -> Snapshot:
    if raw is None:
        return Snapshot()
    state, streak, opened_at, probe, outcomes = json.loads(raw)
    return Snapshot(state, streak, opened_at, probe, [(t, ok) for t, ok in outcomes])


class CircuitBreakers:
    """The router's view: may a backend be called, record how it went, report states.

    If the shared store cannot be reached, this replica's own memory stands in: breakers keep
    working per replica rather than failing every answer.
    """

    def __init__(
        self, store: BreakerStore, config: BreakerConfig, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self.config = config
        self._clock = clock
        self._local = MemoryBreakerStore()
        self.store_reachable = True
        # Successes held back while the breaker was last seen closed, and when each backend's
        # outcomes were last written: one write per `success_batch_s` instead of one per answer.
        self._held: dict[str, list[float]] = {}
        self._written_at: dict[str, float] = {}
        self._seen_closed: set[str] = set()

    async def _update(
        self, backend: str, change: Callable[[Snapshot], tuple[bool, Snapshot]]
    ) -> bool:
        try:
            result = await self.store.update(backend, change)
        except StoreUnavailable as exc:
            self._store_down(exc)
            return await self._local.update(backend, change)
        self.store_reachable = True
        return result

    async def _read(self, backend: str) -> Snapshot:
        try:
            snap = await self.store.read(backend)
        except StoreUnavailable as exc:
            self._store_down(exc)
            return await self._local.read(backend)
        self.store_reachable = True
        return snap

    def _store_down(self, exc: StoreUnavailable) -> None:
        if self.store_reachable:  # said once per outage, not per call
            log.warning("breaker store unreachable, using this replica's memory: %s", exc)
        self.store_reachable = False

    async def allow(self, backend: str, probe: bool = False) -> bool:
        """May a call go to `backend`; `probe`: the background prober claiming the probe."""
        # A closed breaker admits without changing anything: one read, not a transaction
        # (WATCH, GET, UNWATCH in Redis) for every answer.
        if (await self._read(backend)).state == "closed":
            self._seen_closed.add(backend)
            return True
        self._seen_closed.discard(backend)
        return await self._update(
            backend, lambda s: admission(s, self._clock(), self.config, probe)
        )

    async def record(self, backend: str, ok: bool) -> None:
        """Record a call's outcome. A success on a breaker this replica last saw closed is held
        back and written with the next outcome once `success_batch_s` has passed: every
        answer's success was a transaction on the backend's one key, and under overload the
        router's replicas spent most of their CPU retrying the ones that collided. A failure,
        or a success on a breaker not seen closed (a probe's), is written at once."""
        now = self._clock()
        held = self._held.setdefault(backend, [])
        outcome: tuple[float, bool] | None = (now, ok)
        if ok and backend in self._seen_closed and self.config.success_batch_s > 0:
            held.append(now)
            outcome = None
            if now - self._written_at.get(backend, float("-inf")) < self.config.success_batch_s:
                return
        self._held[backend] = []  # `held` goes with this write
        self._written_at[backend] = now
        await self._update(
            backend, lambda snap: (True, after_outcomes(snap, held, outcome, self.config))
        )

    async def state(self, backend: str) -> State:
        snap = await self._read(backend)
        if snap.state == "open" and self._clock() - snap.opened_at >= self.config.open_s:
            return "half_open"  # the next call is a probe
        return snap.state

    async def due_for_probe(self, backend: str) -> bool:
        """Open past its time, or a probe that never reported back: the prober may claim it."""
        return await self.state(backend) == "half_open"
