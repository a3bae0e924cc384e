"""One load step's figures, and the side-by-side table `run.py` prints (markdown, as it goes
into docs/PERFORMANCE.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workload import Figures


@dataclass
class Step:
    label: str  # "graph, mixed" | "graph, uncached" | "single, uncached"
    users: int
    load_avg: tuple[float, float, float]  # before the step: what else ran
    figures: Figures
    tally: dict[str, int]
    server_cores: float  # CPU-seconds per second over the measured window
    locust_cores: float
    upstream_cores: float
    machine_cores: float  # every process on the machine
    server_idle_cores: float  # the server's own rate with no requests

    @property
    def hit_rate(self) -> float | None:
        hits = self.tally.get("cache_exact", 0) + self.tally.get("cache_semantic", 0)
        answers = hits + self.tally.get("cache_miss", 0)
        return hits / answers if answers else None

    @property
    def errors(self) -> int:
        return self.figures.failures + self.figures.other_failures

    @property
    def others_cores(self) -> float:
        """What the rest of the machine used meanwhile (other people's work)."""
        mine = self.server_cores + self.locust_cores + self.upstream_cores
        return max(0.0, self.machine_cores - mine)

    def per_core(self, net: bool = False) -> float:
        cores = self.server_cores - (self.server_idle_cores if net else 0.0)
        return self.figures.rps / cores if cores > 0 else float("nan")

    def cells(self) -> list[Any]:
        f, hit = self.figures, self.hit_rate
        return [
            self.label,
            self.users,
            " ".join(f"{x:.2f}" for x in self.load_avg),
            f"{f.rps:.1f}",
            f"{f.rps * 3600:,.0f}",
            f"{f.p50_ms:.0f}",
            f"{f.p95_ms:.0f}",
            f"{f.p99_ms:.0f}",
            f"{self.errors} / {f.requests}",
            "-" if hit is None else f"{hit:.1%}",
            f"{self.server_cores:.2f}",
            f"{self.locust_cores:.2f}",
            f"{self.upstream_cores:.2f}",
            f"{self.others_cores:.2f}",
            f"{self.per_core():.1f}",
            f"{self.per_core(net=True):.1f}",
        ]

    def line(self) -> str:
        return "| " + " | ".join(str(c) for c in self.cells()) + " |"


HEADER = (
    "| path | students | load avg before | answers/s | answers/hour | p50 ms | p95 ms | p99 ms "
    "| errors / answers | cache hits | server cores | locust cores | upstream cores "
    "| others' cores | answers/s per server core | net of idle |\n"
    "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
    "| ---: | ---: | ---: |"
)


def ratios(steps: list[Step]) -> list[str]:
    """Graph / single process, answers per server core on the uncached path, per level."""
    by = {(s.label, s.users): s for s in steps}
    lines = []
    for (label, users), graph in by.items():
        single = by.get(("single, uncached", users))
        if label != "graph, uncached" or single is None:
            continue
        gross = graph.per_core() / single.per_core()
        net = graph.per_core(net=True) / single.per_core(net=True)
        lines.append(
            f"uncached, {users} students: graph / single process answers per core "
            f"x{gross:.2f} (net of idle x{net:.2f})"
        )
    return lines


def table(steps: list[Step]) -> str:
    return "\n".join([HEADER, *(s.line() for s in steps), "", *ratios(steps)])
