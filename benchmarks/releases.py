"""Releases under load: `tutor deploy` of a good release, of one that rolls every replica, and
of one that fails verification and is rolled back, each while students keep asking.

Runs against the head `tutor up` started (same environment: ports, DATA_DIR, releases dir),
with the checkout's `tutor`. Each phase runs a steady load (tests/integration/steady_load.py,
admin tokens: no quota) from a few seconds before its deploy until a few seconds after, and
prints what every request got, side by side with a phase with no deploy (the baseline).

  quiet        no deploy: the baseline
  in-place     a Router and shard user_config change (Serve reconfigures in place)
  rolling      an overlay setting changed (runtime_env): Serve replaces every replica
  failed       the LLM node asked for a model directory that does not exist: verification
               fails and the previous release is applied again

Usage: python benchmarks/releases.py [--workers 3] [--quiet-seconds 30] [--skip rolling]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from common import ADMIN, ROOT

from tests.integration.steady_load import Outcome, SteadyLoad, summarize

TUTOR = str(Path(sys.executable).with_name("tutor"))


def edited(base: dict[str, Any], name: str, **user_config: Any) -> dict[str, Any]:
    config = yaml.safe_load(yaml.safe_dump(base))
    for deployment in config["applications"][0]["deployments"]:
        if deployment["name"] == name:
            deployment.setdefault("user_config", {}).update(user_config)
    return config


def deploy(config: dict[str, Any], work: Path, env: dict[str, str]) -> tuple[int, float, str]:
    path = work / f"config-{time.monotonic_ns()}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    started = time.perf_counter()
    done = subprocess.run(
        [TUTOR, "deploy", "--config", str(path)], env=env, capture_output=True, text=True
    )
    last = [line for line in done.stdout.splitlines() if line.startswith("release ")]
    return done.returncode, time.perf_counter() - started, last[-1] if last else done.stderr


def phase(url: str, workers: int, action: Any, settle_s: float = 5.0) -> tuple[Any, Any, Any]:
    load = SteadyLoad(url, workers, headers=ADMIN).start()
    time.sleep(settle_s)
    result = action()
    time.sleep(settle_s)
    outcomes = load.stop()
    return result, summarize(outcomes), outcomes


def failure_reasons(outcomes: list[Outcome]) -> dict[str, int]:
    reasons: dict[str, int] = {}
    for o in outcomes:
        if o.failed:
            reason = f"HTTP {o.http_status} {o.error[:160]}"
            reasons[reason] = reasons.get(reason, 0) + 1
    return reasons


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--quiet-seconds", type=float, default=30)
    parser.add_argument("--skip", default="", help="Comma-separated phases to leave out.")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    base = yaml.safe_load((ROOT / "serve_config.yaml").read_text())
    url = f"http://127.0.0.1:{base['http_options']['port']}"
    work = Path(tempfile.mkdtemp(prefix="tutor-releases-"))
    overlays = work / "config"
    overlays.mkdir()
    overlay = yaml.safe_load((ROOT / "config" / "development.yaml").read_text())
    (overlays / "development.yaml").write_text(yaml.safe_dump(overlay))
    env = {**os.environ, "TUTOR_CONFIG_DIR": str(overlays)}
    router = base["applications"][0]["deployments"][1]["user_config"]
    search = {**router["search"], "rerank_top_n": 20}

    def rolling() -> tuple[int, float, str]:
        overlay["settings"]["SESSION_TTL_S"] = 3599  # a new runtime_env: every replica rolls
        (overlays / "development.yaml").write_text(yaml.safe_dump(overlay))
        return deploy(base, work, env)

    phases: dict[str, Any] = {
        "quiet": lambda: time.sleep(args.quiet_seconds) or (0, args.quiet_seconds, "-"),
        "in-place": lambda: deploy(edited(base, "Router", search=search), work, env),
        "rolling": rolling,
        "failed": lambda: deploy(edited(base, "LLM-local", model_dir="no-such"), work, env),
    }
    print("setup: a release of the base config and overlay, no load ...", flush=True)
    print("  " + deploy(base, work, env)[2], flush=True)
    rows = []
    for name, action in phases.items():
        if name in skip:
            continue
        print(f"phase {name} ...", flush=True)
        (code, seconds, outcome), summary, outcomes = phase(url, args.workers, action)
        rows.append((name, code, seconds, outcome, summary))
        print(f"  exit {code} in {seconds:.1f}s: {outcome}\n  {summary.line()}", flush=True)
        for reason, count in failure_reasons(outcomes).items():
            print(f"  failed {count}x: {reason}", flush=True)
    print(
        f"\n{'phase':9} {'exit':>4} {'deploy s':>8} {'sent':>5} {'ok':>5} {'failed':>6} "
        f"{'p50 s':>6} {'p95 s':>6}  release"
    )
    for name, code, seconds, outcome, s in rows:
        print(
            f"{name:9} {code:>4} {seconds:8.1f} {s.sent:5} {s.ok:5} {s.failed:6} "
            f"{s.p50_s:6.2f} {s.p95_s:6.2f}  {outcome}"
        )


if __name__ == "__main__":
    main()
