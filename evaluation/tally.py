"""The figures of `tutor eval answers`: judged answers tallied per column (a backend and an
answer-check mode) and per group (subject and form), with how far the check's labels hold.

Label precision: of the answers the check labelled "supported" (shown as *checked*) or
"repaired" (*corrected*), the share the judge finds right. "unverified" (*could not be
checked*) and "unsupported" are shown as shares of the questions asked. A failed question (an
error status, or no response) counts as asked and not right.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from evaluation.answers import AnswerQuestion, is_right


@dataclass(frozen=True)
class Answered:
    """One question asked of the tutor, and the judge's view of its answer."""

    item: AnswerQuestion
    answer: str
    verdict: str | None  # the answer check's label; None when it did not run
    latency_s: float
    failed: bool  # an error status, or no response at all
    check_ms: float | None = None  # the answer check's own time, as the tutor reports it

    @property
    def right(self) -> bool:
        return not self.failed and is_right(self.answer, self.item)


@dataclass(frozen=True)
class Figures:
    """One row of a column's table."""

    asked: int
    right: int
    checked: int  # verdict "supported"
    checked_right: int
    corrected: int  # verdict "repaired"
    corrected_right: int
    unverified: int
    unsupported: int
    failed: int
    invented: int  # unanswerable questions given a value (wrong, not failed)
    p50_s: float
    p95_s: float
    check_p95_ms: float  # the answer check's time (repair included) at p95; 0 when not run


def figures(rows: Sequence[Answered]) -> Figures:
    def having(verdict: str) -> list[Answered]:
        return [r for r in rows if r.verdict == verdict]

    latencies = [r.latency_s for r in rows]
    return Figures(
        asked=len(rows),
        right=sum(r.right for r in rows),
        checked=len(having("supported")),
        checked_right=sum(r.right for r in having("supported")),
        corrected=len(having("repaired")),
        corrected_right=sum(r.right for r in having("repaired")),
        unverified=len(having("unverified")),
        unsupported=len(having("unsupported")),
        failed=sum(r.failed for r in rows),
        invented=sum(r.item.answer_type == "none" and not r.failed and not r.right for r in rows),
        p50_s=percentile(latencies, 0.50),
        p95_s=percentile(latencies, 0.95),
        check_p95_ms=percentile([r.check_ms for r in rows if r.check_ms is not None], 0.95),
    )


def percentile(values: Sequence[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(sorted(values), n=100, method="inclusive")[round(q * 100) - 1]


@dataclass
class Column:
    """A backend and an answer-check mode over the question set."""

    name: str
    rows: list[Answered] = field(default_factory=list)

    def groups(self) -> dict[tuple[str, str, bool], Figures]:
        """Per subject and form, answerable questions only, in the set's order."""
        keys = {(r.item.subject, r.item.form, r.item.held_out): None for r in self.rows}
        return {
            key: figures([r for r in self.rows if group_of(r.item) == key])
            for key in keys
            if key[0] != "none"
        }

    def totals(self) -> dict[str, Figures]:
        kinds: dict[str, Callable[[AnswerQuestion], bool]] = {
            "covered forms": lambda q: q.subject != "none" and not q.held_out,
            "held-out forms": lambda q: q.subject != "none" and q.held_out,
            "unanswerable": lambda q: q.subject == "none",
        }
        return {
            name: figures([r for r in self.rows if kind(r.item)]) for name, kind in kinds.items()
        }

    def wrong(self) -> list[Answered]:
        return [r for r in self.rows if not r.right]


def group_of(item: AnswerQuestion) -> tuple[str, str, bool]:
    return item.subject, item.form, item.held_out


def share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def precision(right: int, labelled: int) -> str:
    return f"{share(right, labelled)} ({right}/{labelled})"


HEAD = (
    "| group | held out | asked | right | checked: right | corrected: right "
    "| could not be checked | unsupported | failed | p50 s | p95 s | check p95 ms |\n"
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
)


def table_row(name: str, held_out: str, f: Figures) -> str:
    return (
        f"| {name} | {held_out} | {f.asked} | {share(f.right, f.asked)} "
        f"| {precision(f.checked_right, f.checked)} "
        f"| {precision(f.corrected_right, f.corrected)} "
        f"| {share(f.unverified, f.asked)} | {share(f.unsupported, f.asked)} | {f.failed} "
        f"| {f.p50_s:.2f} | {f.p95_s:.2f} | {f.check_p95_ms:.1f} |"
    )


def markdown(column: Column) -> str:
    lines = [f"### {column.name}", "", HEAD]
    for (subject, form, held_out), f in column.groups().items():
        lines.append(table_row(f"{subject} / {form}", "yes" if held_out else "no", f))
    totals = column.totals()
    lines.append(table_row("**covered forms**", "no", totals["covered forms"]))
    lines.append(table_row("**held-out forms**", "yes", totals["held-out forms"]))
    none = totals["unanswerable"]
    lines.append(table_row(f"**unanswerable** (invented values: {none.invented})", "yes", none))
    return "\n".join(lines)


def wrong_lines(column: Column, limit: int) -> list[str]:
    lines = []
    for r in column.wrong()[:limit]:
        said = "(failed)" if r.failed else repr(r.answer[:160])
        expected = r.item.expected if r.item.answer_type != "none" else "no value"
        lines.append(f"  [{r.item.form}] {r.item.question} -> {said} (expected {expected})")
    return lines


def report(columns: Sequence[Column], show_wrong: int) -> str:
    parts = []
    for column in columns:
        parts.append(markdown(column))
        if show_wrong and column.wrong():
            parts.append(f"\nwrong ({column.name}), first {show_wrong}:")
            parts.extend(wrong_lines(column, show_wrong))
        parts.append("")
    return "\n".join(parts).rstrip()


def as_json(columns: Sequence[Column]) -> str:
    return json.dumps([column_json(c) for c in columns], indent=1)


def column_json(column: Column) -> dict[str, Any]:
    return {
        "name": column.name,
        "groups": [
            {"subject": s, "form": form, "held_out": held, **asdict(f)}
            for (s, form, held), f in column.groups().items()
        ],
        "totals": {name: asdict(f) for name, f in column.totals().items()},
        "wrong": [
            {
                "question": r.item.question,
                "subject": r.item.subject,
                "form": r.item.form,
                "held_out": r.item.held_out,
                "answer": r.answer,
                "expected": r.item.expected,
                "verdict": r.verdict,
                "failed": r.failed,
            }
            for r in column.wrong()
        ],
    }
