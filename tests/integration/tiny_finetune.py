"""The tiny fine-tune CI runs: `tutor finetune` as an operator runs it, a couple of steps on a
handful of short examples. It checks the pipeline end to end, not the model's answers; its
model serves like any other (tests of the model swap use it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import CURRICULUM

TINY_ARGS = [
    "--max-steps", "2",
    "--examples", "8",
    "--batch-size", "2",
    "--seq-len", "256",  # definitions mostly: a short prompt keeps a CPU step to seconds
    "--eval-limit", "1",
]  # fmt: skip


def tiny_finetuned_model(models_dir: Path, name: str, timeout: float = 600) -> dict[str, Any]:
    """Fine-tune the prepared base model in `models_dir` into `models_dir/name` and return the
    new directory's manifest (tutor-model.json). The caller removes the directory."""
    command = [
        str(Path(sys.executable).with_name("tutor")),
        "finetune",
        *TINY_ARGS,
        "--name", name,
        "--base", str(models_dir / "smollm2-135m-instruct"),
        "--curriculum", str(CURRICULUM),
    ]  # fmt: skip
    env = {**os.environ, "DATA_DIR": str(models_dir.parent), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest: dict[str, Any] = json.loads((models_dir / name / "tutor-model.json").read_text())
    return manifest
