"""The router's grounding step: every answer checked against the passages it was given
(`models.response_optimizer`), and an unsupported one repaired before the answer ends.

Repair, in `repair` mode: the same backend is asked once more with the passage sentence that
answers quoted (`strict_prompt`); if that answer is still unsupported, the passage's own words
(`extractive_answer`) replace it. Either way the student gets a `replace` event with the new
text and a `grounding` event with the verdict `repaired`. In `flag` mode the answer stays and
is marked `unsupported`. Tokens stream as before: the check runs after the last one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from models.backend import ChatMessage, GenerationRequest
from models.events import (
    AnswerEvent,
    DoneEvent,
    GroundingEvent,
    GroundingInfo,
    ReplaceEvent,
    TokenEvent,
    Usage,
)
from models.generation import ChainRunner, Generation
from models.prompts import SourceText
from models.resilience import Deadline
from models.response_optimizer import (
    Evidence,
    Grounding,
    GroundingConfig,
    check,
    extractive_answer,
    strict_prompt,
)


@dataclass(frozen=True)
class Checked:
    events: list[AnswerEvent]  # a replace event (if repaired), then the grounding event
    done: DoneEvent  # with its `grounding` and timings
    text: str  # the answer as the student now reads it


class AnswerChecker:
    def __init__(self, runner: Callable[[], ChainRunner], deadline_s: float) -> None:
        self._runner = runner
        self._deadline_s = deadline_s

    async def review(
        self,
        config: GroundingConfig,
        question: str,
        sources: list[SourceText],
        text: str,
        done: DoneEvent,
    ) -> Checked:
        if config.mode == "off" or done.status != "ok" or not text.strip():
            return Checked([], done, text)
        evidence = Evidence(question, sources)
        start = time.perf_counter()
        grounding = check(text, evidence, config)
        timings = {**done.timings_ms, "grounding": ms_since(start)}
        events: list[AnswerEvent] = []
        usage = done.usage
        if grounding.verdict == "unsupported" and config.mode == "repair":
            start = time.perf_counter()
            repaired, extra = await self._repair(config, evidence, done)
            timings["repair"] = ms_since(start)
            if repaired is not None:
                events.append(ReplaceEvent(text=repaired))
                text, grounding = repaired, grounding.as_repaired()
                usage = Usage(
                    prompt_tokens=usage.prompt_tokens + extra.prompt_tokens,
                    completion_tokens=usage.completion_tokens + extra.completion_tokens,
                )
        info = info_of(grounding)
        events.append(GroundingEvent(**info.model_dump()))
        update = {"grounding": info, "timings_ms": timings, "usage": usage}
        return Checked(events, done.model_copy(update=update), text)

    async def _repair(
        self, config: GroundingConfig, evidence: Evidence, done: DoneEvent
    ) -> tuple[str | None, Usage]:
        """A supported answer: asked again with the passage quoted, else the passage itself."""
        prompt = strict_prompt(evidence)
        if config.regenerate and prompt is not None and done.backend is not None:
            again, usage = await self._ask_again(done.backend, prompt, evidence.question)
            if again and check(again, evidence, config).verdict == "supported":
                return again, usage
        else:
            usage = Usage()
        return extractive_answer(evidence), usage

    async def _ask_again(self, backend: str, prompt: str, question: str) -> tuple[str, Usage]:
        request = GenerationRequest(
            messages=[ChatMessage("system", prompt), ChatMessage("user", question)],
            max_tokens=80,
            temperature=0.0,
        )
        gen = Generation()
        events = self._runner().run([backend], request, Deadline.after(self._deadline_s), gen)
        parts = [e.text async for e in events if isinstance(e, TokenEvent)]
        return "".join(parts).strip(), gen.usage


def info_of(grounding: Grounding) -> GroundingInfo:
    return GroundingInfo(
        verdict=grounding.verdict, score=grounding.score, unsupported=grounding.unsupported
    )


def ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
