"""Practice requests: an item made from the passages on the topic, kept with its key, and the
check that grades a student's answer and counts it in their progress.

A request the router would class as `practice` ("quiz me on potassium") is answered here with
an item rather than by a model: the item is built from what a passage states, so its key is
right, and the key stays on the server until the check.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from cluster.storage.db import Users
from models.events import (
    AnswerEvent,
    DoneEvent,
    PracticeEvent,
    PracticeItemView,
    SourcesEvent,
    TokenEvent,
)
from models.routing import classify
from practice.errors import PracticeItemNotFound
from practice.grading import is_correct
from practice.items import Passage, make_item, topic_of
from practice.store import PracticeStore
from retrieval.fanout import SearchOutcome
from service.router import QueryPlan, source_of

Search = Callable[[str, str | None, int], Awaitable[SearchOutcome]]
CANDIDATES = 5  # hits to draw the item and its wrong choices from


@dataclass(frozen=True)
class CheckResult:
    item_id: str
    correct: bool
    answer: str  # the key, revealed now
    explanation: Passage
    counted: bool  # the first check of the item counts in the progress; later ones do not
    progress: dict[str, Any] | None  # the student's practice progress after this check

    def as_json(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "correct": self.correct,
            "answer": self.answer,
            "explanation": self.explanation.model_dump(),
            "counted": self.counted,
            "progress": self.progress,
        }


def is_practice_request(plan: QueryPlan) -> bool:
    """Asked for practice, and not pinned to a model by an admin."""
    return plan.backend is None and classify(plan.question).query_class == "practice"


class Practice:
    def __init__(
        self,
        store: PracticeStore,
        search: Search,
        users: Users | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self._search = search
        self._users = users
        self._rng = rng or random.Random()

    async def item_events(self, plan: QueryPlan, user_id: str | None) -> list[AnswerEvent]:
        """The answer to a practice request: the sources, the item's text, the item, done.
        Empty when the passages on the topic state nothing an item can be made from (the
        request is then answered as any other question)."""
        start = time.perf_counter()
        outcome = await self._search(topic_of(plan.question), plan.subject, CANDIDATES)
        item = make_item(outcome.hits, self._rng, user_id)
        if item is None:
            return []
        await self.store.put(item)
        sources = [source_of(h) for h in outcome.hits if h.doc_id == item.passage.id]
        done = DoneEvent(
            model="practice-generator",
            backend="practice",
            route="practice-item",
            query_class="practice",
            request_id=plan.request_id,
            timings_ms={**outcome.timings_ms, "total": (time.perf_counter() - start) * 1000},
        )
        return [
            SourcesEvent(sources=sources, degraded=outcome.degraded),
            TokenEvent(text=item.as_text()),
            PracticeEvent(item=PracticeItemView.model_validate(item.public())),
            done,
        ]

    async def check(self, item_id: str, answer: str, user_id: str | None) -> CheckResult:
        """Grade `answer`; `user_id` None is an admin's check of any item. Another student's
        item is reported absent, as an unknown one is."""
        item = await self.store.get(item_id)
        if item is None or (user_id is not None and item.user_id not in (None, user_id)):
            raise PracticeItemNotFound(item_id)
        correct = is_correct(item, answer)
        counted = await self.store.first_check(item_id)
        progress = None
        if counted and item.user_id is not None and self._users is not None:
            progress = await self._users.record_practice(
                item.user_id, item.passage.subject, correct
            )
        return CheckResult(item_id, correct, item.key, item.passage, counted, progress)
