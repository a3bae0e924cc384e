"""The grounding step through the router: an answer that contradicts its source is repaired
(asked again with the passage quoted, else the passage's own words), flagged, or left alone,
as the router's `grounding` user_config says; an unsupported answer is never cached."""

from __future__ import annotations

from typing import Any

import pytest

from graphs.single_process import local_router
from models.events import DoneEvent, GroundingEvent, ReplaceEvent, TokenEvent
from response_cache.stores import MemoryResponseCache
from retrieval.corpus import Document
from retrieval.dense import DenseIndexParams
from retrieval.ingest import build_shard
from service.router import QueryPlan, RouterConfig, TutorRouter
from tests.fakes.hashing_embedder import HashingEmbedder
from tests.fakes.llm import ScriptedBackend

QUESTION = "What is the atomic number of carbon?"
WRONG = "The atomic number of carbon is 12 [1]."
RIGHT = "Carbon has the atomic number 6 [1]."


@pytest.fixture(scope="module")
def shards(chemistry_docs):
    docs = [Document.model_validate(d) for d in chemistry_docs]
    return {
        "chemistry": build_shard("chemistry", docs, HashingEmbedder(), DenseIndexParams(), False)
    }


def router(shards: Any, model: ScriptedBackend, mode: str, regenerate: bool = False) -> TutorRouter:
    config = RouterConfig.model_validate(
        {"policy": {"default": ["local"]}, "grounding": {"mode": mode, "regenerate": regenerate}}
    )
    return local_router(HashingEmbedder(), shards, {"local": model}, config=config)


async def ask(tutor: TutorRouter, question: str = QUESTION) -> list[Any]:
    return [e async for e in tutor.answer(QueryPlan(question, request_id="r" * 32))]


def streamed(events: list[Any]) -> str:
    return "".join(e.text for e in events if isinstance(e, TokenEvent)).strip()


async def test_a_wrong_number_is_replaced_by_the_answer_asked_again_with_the_passage(shards):
    model = ScriptedBackend(WRONG, RIGHT)
    events = await ask(router(shards, model, "repair", regenerate=True))
    assert streamed(events) == WRONG  # tokens streamed as they came
    replace = next(e for e in events if isinstance(e, ReplaceEvent))
    assert replace.text == RIGHT
    grounding = next(e for e in events if isinstance(e, GroundingEvent))
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.grounding is not None
    assert grounding.verdict == done.grounding.verdict == "repaired"
    # 12 is a number the passage has (carbon's weight, 12.011): the asked field is what fails.
    assert grounding.unsupported == ["atomic number: 6"]
    again = model.requests[1].messages[0].content
    # The second try quoted the passage's answer.
    assert "The atomic number of carbon is 6 [1]." in again


async def test_an_answer_still_wrong_is_replaced_by_the_passage_itself(shards):
    model = ScriptedBackend(WRONG, WRONG)
    events = await ask(router(shards, model, "repair", regenerate=True))
    replace = next(e for e in events if isinstance(e, ReplaceEvent))
    assert replace.text == "The atomic number of carbon is 6 [1]."
    assert events[-1].grounding.verdict == "repaired"


async def test_by_default_a_repair_costs_no_second_model_call(shards):
    model = ScriptedBackend(WRONG, RIGHT)
    events = await ask(router(shards, model, "repair"))
    assert next(e for e in events if isinstance(e, ReplaceEvent)).text == (
        "The atomic number of carbon is 6 [1]."
    )
    assert len(model.requests) == 1


async def test_a_fact_about_nothing_in_the_curriculum_is_not_invented(shards):
    """The local model's own answer to this question (issue 25), labelled *corrected* before."""
    invented = "Vibranium is a chemical element with the atomic number of 108."
    events = await ask(
        router(shards, ScriptedBackend(invented), "repair"),
        "What is the atomic number of vibranium?",
    )
    replace = next(e for e in events if isinstance(e, ReplaceEvent))
    assert "does not say" in replace.text and "108" not in replace.text
    assert replace.verdict == events[-1].grounding.verdict == "unverified"


async def test_a_true_fact_about_another_entry_does_not_answer_a_value_look_up(shards):
    """Issue 25's answer to "which element has atomic number 6?": hydrogen's true number."""
    events = await ask(
        router(shards, ScriptedBackend("The atomic number of hydrogen is 1 [1]."), "repair"),
        "Which chemical element has atomic number 6?",
    )
    replace = next(e for e in events if isinstance(e, ReplaceEvent))
    assert "carbon" in replace.text.lower() and "6" in replace.text
    assert events[-1].grounding.verdict == "repaired"


async def test_flag_mode_marks_the_answer_and_never_caches_it(shards):
    cache = MemoryResponseCache()
    config = RouterConfig.model_validate(
        {"policy": {"default": ["local"]}, "grounding": {"mode": "flag"}}
    )
    model = ScriptedBackend(WRONG)
    tutor = local_router(HashingEmbedder(), shards, {"local": model}, config=config, cache=cache)
    for _ in range(2):
        events = await ask(tutor)
        assert not any(isinstance(e, ReplaceEvent) for e in events)
        assert events[-1].grounding.verdict == "unsupported" and not events[-1].cache.hit
    assert len(model.requests) == 2  # asked twice: the unsupported answer was not cached


async def test_a_supported_answer_is_cached_with_its_verdict(shards):
    config = RouterConfig.model_validate({"policy": {"default": ["local"]}})
    model = ScriptedBackend(RIGHT)
    tutor = local_router(
        HashingEmbedder(), shards, {"local": model}, config=config, cache=MemoryResponseCache()
    )
    first, second = await ask(tutor), await ask(tutor)
    assert first[-1].grounding.verdict == "supported" and second[-1].cache.hit
    assert [e.verdict for e in second if isinstance(e, GroundingEvent)] == ["supported"]


async def test_off_mode_checks_nothing(shards):
    events = await ask(router(shards, ScriptedBackend(WRONG), "off"))
    assert not any(isinstance(e, (ReplaceEvent, GroundingEvent)) for e in events)
    assert events[-1].grounding is None and streamed(events) == WRONG
