"""Answers the check can stand behind: made of the target entries' own words, cited, and
kept only when they pass the check for the question asked (`grounding.step`)."""

from __future__ import annotations

from grounding.check import Evidence, expected_entries
from grounding.text import defining_unit

NOT_IN_CURRICULUM = (
    "The curriculum does not say: none of its passages answers this question. "
    "The closest passages are listed as sources."
)


def not_said(evidence: Evidence) -> str:
    """What the student reads when nothing retrieved lets the tutor answer."""
    if evidence.asked.targets and not evidence.asked.unknown_value:
        title = evidence.target().title
        return (
            f"The curriculum's entry on {title} does not say this. "
            "Its passage is listed as a source."
        )
    return NOT_IN_CURRICULUM


def extractive_answer(evidence: Evidence) -> str | None:
    """An answer in the target entries' words, cited by source number."""
    asked = evidence.asked
    if not asked.answerable:
        return None
    if asked.kind == "field" and asked.label is not None:
        value = evidence.target().value(asked.label)
        return _cite(f"The {asked.label} of {evidence.target().title} is {value}", asked.targets[0])
    if asked.kind == "entry":
        return _entry_answer(evidence)
    if asked.kind == "comparison":
        return _comparison_answer(evidence)
    if asked.kind == "detail":
        unit = evidence.answer_unit
        return None if unit is None else _said(evidence, unit)
    unit = defining_unit(evidence.target().text)
    return _said(evidence, unit) if unit else None


def strict_prompt(extract: str) -> str:
    """The instruction for a second try: the passage's answer, quoted."""
    return (
        "Answer the student's question in one short sentence, using only this, and keep its "
        f"citation. Copy numbers, symbols and names exactly.\n{extract}"
    )


def _entry_answer(evidence: Evidence) -> str:
    asked = evidence.asked
    index = asked.targets[0]
    entry = evidence.sources[index]
    if asked.label is not None and entry.value(asked.label) is not None:
        return _cite(f"{_capital(entry.title)} has {asked.label} {entry.value(asked.label)}", index)
    return _cite(f"{_capital(entry.title)}: {defining_unit(entry.text)}", index)


def _comparison_answer(evidence: Evidence) -> str | None:
    asked = evidence.asked
    if asked.label is None:
        return None
    winner = expected_entries(evidence)[0]
    loser = next(i for i in asked.targets if i != winner)
    label = asked.label
    won, lost = evidence.sources[winner], evidence.sources[loser]
    side = "higher" if asked.direction > 0 else "lower"
    return (
        f"{_capital(won.title)} has the {side} {label}: {won.value(label)} [{winner + 1}], "
        f"against {lost.value(label)} for {lost.title} [{loser + 1}]."
    )


def _said(evidence: Evidence, unit: str) -> str:
    index = evidence.asked.targets[0]
    return _cite(f"{_capital(evidence.sources[index].title)}: {unit.rstrip('.')}", index)


def _cite(sentence: str, index: int) -> str:
    return f"{sentence} [{index + 1}]."


def _capital(title: str) -> str:
    return title[:1].upper() + title[1:]
