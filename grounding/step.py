"""The router's grounding step: every answer checked for the question asked against the
entries it was given (`grounding.check`), and one that does not hold repaired before the
answer ends.

Repair, in `repair` mode: the target entries' own words (`extractive_answer`), or, with
`regenerate`, first the same backend asked again with those words quoted; a repair is kept
only if it passes the same check. Where nothing retrieved lets the tutor answer a look-up
(or no repair passes), the answer is replaced by a sentence saying the curriculum does not
say, with the verdict `unverified`: the model is not left to guess. The student gets a
`replace` event with the new text and a `grounding` event with the verdict. In `flag` mode
the answer stays and is marked. Tokens stream as before: the check runs after the last one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from grounding.answers import extractive_answer, not_said, strict_prompt
from grounding.check import Evidence, Grounding, GroundingConfig, check, wanted_kind
from grounding.question import Entry, LabelMeaning, read
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
from models.resilience import Deadline


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
        sources: list[Entry],
        text: str,
        done: DoneEvent,
        meaning: LabelMeaning | None = None,
    ) -> Checked:
        if config.mode == "off" or done.status != "ok" or not text.strip():
            return Checked([], done, text)
        start = time.perf_counter()
        evidence = Evidence(question, sources, read(question, sources, meaning))
        grounding = check(text, evidence, config)
        timings = {**done.timings_ms, "grounding": ms_since(start)}
        usage = done.usage
        replacement: str | None = None
        if config.mode == "repair" and grounding.verdict in ("unsupported", "unverified"):
            start = time.perf_counter()
            replacement, grounding, extra = await self._repair(config, evidence, done, grounding)
            timings["repair"] = ms_since(start)
            usage = Usage(
                prompt_tokens=usage.prompt_tokens + extra.prompt_tokens,
                completion_tokens=usage.completion_tokens + extra.completion_tokens,
            )
        events: list[AnswerEvent] = []
        if replacement is not None:
            verdict = "unverified" if grounding.verdict == "unverified" else "repaired"
            events.append(ReplaceEvent(text=replacement, verdict=verdict))
            text = replacement
        info = info_of(grounding)
        events.append(GroundingEvent(**info.model_dump()))
        update = {"grounding": info, "timings_ms": timings, "usage": usage}
        return Checked(events, done.model_copy(update=update), text)

    async def _repair(
        self, config: GroundingConfig, evidence: Evidence, done: DoneEvent, found: Grounding
    ) -> tuple[str | None, Grounding, Usage]:
        """(the replacement text or None, the verdict, the extra usage). An unverified answer
        about entries that were found (an open question, a comparison by no stated field)
        stays as it is; a look-up that nothing retrieved answers gets `not_said`."""
        if found.verdict == "unverified":
            if kept_unverified(evidence):
                return None, found, Usage()
            return not_said(evidence), found, Usage()
        extract = extractive_answer(evidence)
        usage = Usage()
        if extract is not None and config.regenerate and done.backend is not None:
            prompt = strict_prompt(extract)
            again, usage = await self._ask_again(done.backend, prompt, evidence.question)
            if again and check(again, evidence, config).verdict == "supported":
                return again, found.as_repaired(), usage
        if extract is not None and check(extract, evidence, config).verdict == "supported":
            return extract, found.as_repaired(), usage
        unverified = Grounding("unverified", 0.0, found.unsupported)
        return not_said(evidence), unverified, usage

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


def kept_unverified(evidence: Evidence) -> bool:
    """An answer the check cannot verify stays (marked) when it is about entries that were
    found and may hold its answer: an open question, a comparison by no stated field, or a
    detail asked of an entry that states values of the wanted kind in its fields ("how many
    protons" of an element whose fields are numbers). Otherwise the curriculum does not say."""
    asked = evidence.asked
    if not asked.answerable:
        return False
    if asked.kind in ("open", "comparison"):
        return True
    return asked.kind == "detail" and any(
        wanted_kind(value, asked.wants) for value in evidence.target().facts.values()
    )


def info_of(grounding: Grounding) -> GroundingInfo:
    return GroundingInfo(
        verdict=grounding.verdict, score=grounding.score, unsupported=grounding.unsupported
    )


def ms_since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)
