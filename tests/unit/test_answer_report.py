"""`tutor eval answers` against a fake tutor (httpx's MockTransport): questions asked a few at a
time, tallied per subject and form, with the answer check's label precision."""

from __future__ import annotations

import asyncio
import json

import httpx

from cluster.cli.answer_eval import HeldOut, run_async, select
from evaluation.answers import AnswerQuestion
from evaluation.tally import Column, as_json, report


def question(text: str, form: str, expected: list[str], **extra: object) -> AnswerQuestion:
    return AnswerQuestion.model_validate(
        {
            "question": text,
            "subject": "chemistry",
            "form": form,
            "held_out": False,
            "expected": expected,
            "answer_type": "number",
            **extra,
        }
    )


QUESTIONS = [
    question("What is the atomic number of argon?", "atomic number of X", ["18"]),
    question("What is the atomic number of neon?", "atomic number of X", ["10"]),
    question("In what year was neon discovered?", "year X was discovered", ["1898"], held_out=True),
    question(
        "What is the atomic number of vibranium?",
        "atomic number of X",
        [],
        subject="none",
        answer_type="none",
        asks="number",
        held_out=True,
    ),
]
# What the fake tutor says, and the check's verdict: argon right and checked, neon wrong but
# labelled checked, the year a server error, vibranium given an invented number.
ANSWERS = {
    "What is the atomic number of argon?": ("Argon's atomic number is 18 [1].", "supported"),
    "What is the atomic number of neon?": ("Neon has atomic number 8 [1].", "supported"),
    "What is the atomic number of vibranium?": ("Vibranium has atomic number 108.", "unverified"),
}


class FakeTutor:
    def __init__(self) -> None:
        self.in_flight = self.most_in_flight = 0
        self.bodies: list[dict[str, object]] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0.01)
        self.in_flight -= 1
        if body["question"] not in ANSWERS:
            return httpx.Response(500, json={"error": {"type": "internal", "message": "boom"}})
        answer, verdict = ANSWERS[body["question"]]
        grounding = {"verdict": verdict} if body["grounding"] != "off" else None
        return httpx.Response(200, json={"answer": answer, "status": "ok", "grounding": grounding})


def ask_all(tutor: FakeTutor, modes: list[str], concurrency: int = 2) -> list[Column]:
    return asyncio.run(
        run_async(
            "http://tutor",
            "token",
            QUESTIONS,
            [None, "local"],
            modes,
            concurrency=concurrency,
            transport=httpx.MockTransport(tutor),
        )
    )


def test_every_backend_and_mode_is_a_column_asked_a_few_at_a_time() -> None:
    tutor = FakeTutor()
    columns = ask_all(tutor, ["off", "repair"], concurrency=2)
    assert [c.name for c in columns] == [
        "routed / off",
        "routed / repair",
        "local / off",
        "local / repair",
    ]
    assert tutor.most_in_flight == 2
    assert {b.get("backend") for b in tutor.bodies} == {None, "local"}
    assert [r.item.question for r in columns[0].rows] == [q.question for q in QUESTIONS]


def test_label_precision_counts_the_checked_answers_that_are_right() -> None:
    column = ask_all(FakeTutor(), ["repair"])[0]
    totals = column.totals()
    covered = totals["covered forms"]
    assert (covered.asked, covered.right, covered.checked, covered.checked_right) == (2, 1, 2, 1)
    assert totals["held-out forms"].failed == 1  # the server error: asked, not right
    assert totals["held-out forms"].right == 0
    assert totals["unanswerable"].invented == 1
    assert totals["unanswerable"].unverified == 1
    table = report([column], show_wrong=5)
    assert "| chemistry / atomic number of X | no | 2 | 50% | 50% (1/2) |" in table
    assert "**unanswerable** (invented values: 1)" in table
    assert "Neon has atomic number 8" in table  # listed among the wrong answers


def test_the_json_holds_the_figures_and_the_wrong_answers() -> None:
    columns = ask_all(FakeTutor(), ["off"])
    first = json.loads(as_json(columns))[0]
    assert first["totals"]["covered forms"]["right"] == 1
    assert first["totals"]["covered forms"]["checked"] == 0  # the check was off
    assert {w["question"] for w in first["wrong"]} == {
        "What is the atomic number of neon?",
        "In what year was neon discovered?",
        "What is the atomic number of vibranium?",
    }


def test_questions_are_chosen_by_form_subject_and_held_out() -> None:
    assert len(select(QUESTIONS, forms=["ATOMIC number"])) == 3
    assert [q.subject for q in select(QUESTIONS, subjects=["none"])] == ["none"]
    assert len(select(QUESTIONS, held_out=HeldOut.only)) == 2
    assert len(select(QUESTIONS, held_out=HeldOut.exclude)) == 2
