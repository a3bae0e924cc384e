"""Measuring the query classifier on a labelled set: accuracy, per-class precision and recall."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from models.routing import QUERY_CLASSES, classify


@dataclass(frozen=True)
class ClassReport:
    label: str
    support: int
    precision: float
    recall: float


@dataclass(frozen=True)
class RoutingReport:
    accuracy: float
    total: int
    classes: list[ClassReport]
    confusion: dict[tuple[str, str], int]  # (true, predicted) -> count


def read_labels(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [(row["question"], row["label"]) for row in rows]


def ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def evaluate(labelled: list[tuple[str, str]]) -> RoutingReport:
    confusion: Counter[tuple[str, str]] = Counter(
        (label, str(classify(q).query_class)) for q, label in labelled
    )
    classes = []
    for label in QUERY_CLASSES:
        hits = confusion[(label, label)]
        support = sum(n for (true, _), n in confusion.items() if true == label)
        predicted = sum(n for (_, guess), n in confusion.items() if guess == label)
        classes.append(ClassReport(label, support, ratio(hits, predicted), ratio(hits, support)))
    correct = sum(n for (true, guess), n in confusion.items() if true == guess)
    return RoutingReport(ratio(correct, len(labelled)), len(labelled), classes, dict(confusion))


def format_report(report: RoutingReport) -> str:
    lines = [
        f"accuracy {report.accuracy:.3f} over {report.total} questions",
        "",
        f"{'class':18} {'support':>7} {'precision':>9} {'recall':>7}",
    ]
    for c in report.classes:
        lines.append(f"{c.label:18} {c.support:7} {c.precision:9.3f} {c.recall:7.3f}")
    lines += ["", "confusion (true -> predicted):"]
    for (true, guess), count in sorted(report.confusion.items()):
        if true != guess:
            lines.append(f"  {true} -> {guess}: {count}")
    return "\n".join(lines)
