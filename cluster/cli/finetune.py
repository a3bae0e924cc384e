"""`tutor finetune`: the curriculum model, trained in this process (no Ray) by
`training.finetune`, then the directory, its manifest and how to serve it. The heavy imports
wait until the command runs, so the rest of `tutor` starts as fast as before."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cluster import launcher
from cluster.settings import get_settings

if TYPE_CHECKING:
    from training.finetune import FinetuneResult


class DeviceChoice(StrEnum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class MethodChoice(StrEnum):
    lora = "lora"
    full = "full"


def finetune(
    budget_minutes: Annotated[
        float, typer.Option(min=0.1, help="Training stops before it would overrun this.")
    ] = 30,
    max_steps: Annotated[int | None, typer.Option(min=1, help="Stop after N steps.")] = None,
    examples: Annotated[
        int | None, typer.Option(min=1, help="Train on the first N examples that fit.")
    ] = None,
    eval_limit: Annotated[
        int, typer.Option(min=0, help="Held-out questions asked of base and fine-tuned (0: none).")
    ] = 20,
    base: Annotated[
        str, typer.Option(help="The base model dir; relative: under $DATA_DIR/models.")
    ] = "smollm2-135m-instruct",
    name: Annotated[
        str | None, typer.Option(help="The new dir's name; default smollm2-curriculum-<UTC time>.")
    ] = None,
    device: Annotated[DeviceChoice, typer.Option(help="auto: the GPU if there is one.")] = (
        DeviceChoice.auto
    ),
    method: Annotated[
        MethodChoice, typer.Option(help="lora (merged into the weights) or full.")
    ] = MethodChoice.lora,
    seed: Annotated[int, typer.Option(help="Data, order and initialisation.")] = 20261201,
    seq_len: Annotated[int, typer.Option(min=64, help="Longer examples are dropped.")] = 512,
    batch_size: Annotated[int, typer.Option(min=1)] = 4,
    lr: Annotated[float | None, typer.Option(help="Default: 3e-4 lora, 3e-5 full.")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="CPU threads.")] = None,
    curriculum: Annotated[Path, typer.Option(help="The curriculum's JSONL.gz files.")] = Path(
        "data/curriculum"
    ),
) -> None:
    """Fine-tune the local model on questions built from the curriculum, within a time budget,
    into a new versioned directory under $DATA_DIR/models (no Ray; a GPU if there is one)."""
    options = {
        "budget_minutes": budget_minutes,
        "max_steps": max_steps,
        "examples": examples,
        "eval_limit": eval_limit,
        "name": name,
        "device": device.value,
        "method": method.value,
        "seed": seed,
        "seq_len": seq_len,
        "batch_size": batch_size,
        "lr": lr,
        "threads": threads,
        "curriculum_dir": curriculum,
    }
    sys.exit(run_command(base, options))


def base_dir(base: str, models_dir: Path) -> Path:
    """A relative --base is under $DATA_DIR/models, as the LLM node's model_dir is."""
    path = Path(base)
    return path if path.is_absolute() else models_dir / path


def run_command(base: str, options: dict[str, Any]) -> int:
    """Train with the command's options; a problem the operator can fix exits 2, named."""
    from pydantic import ValidationError

    from training.errors import FinetuneError
    from training.finetune import FinetuneConfig, run_finetune

    models_dir = get_settings().models_dir
    given = {k: v for k, v in options.items() if v is not None}
    try:
        config = FinetuneConfig(base_dir=base_dir(base, models_dir), models_dir=models_dir, **given)
        result = run_finetune(config, log=lambda line: typer.echo(line, err=True))
    except ValidationError as exc:
        return refuse("; ".join(f"--{option(e['loc'])}: {e['msg']}" for e in exc.errors()))
    except FinetuneError as exc:
        return refuse(str(exc))
    say(result)
    return 0


def option(loc: tuple[int | str, ...]) -> str:
    return "-".join(str(part) for part in loc).replace("_", "-")


def refuse(message: str) -> int:
    typer.secho(f"error: {message}", fg="red", err=True)
    return 2


def say(result: FinetuneResult) -> None:
    figures = result.manifest["eval"]
    if figures.get("held_out_questions"):
        typer.echo(
            f"held-out questions: base {figures['base_accuracy']:.0%}, "
            f"fine-tuned {figures['finetuned_accuracy']:.0%} "
            f"(of {figures['held_out_questions']})"
        )
    typer.echo(f"wrote {result.path}")
    typer.echo(json.dumps(result.manifest, indent=2))
    typer.echo(deploy_hint(result.path.name))


def deploy_hint(model_dir: str) -> str:
    """The serve config change that swaps the LLM node to the new model (and back)."""
    head = launcher.head_for(get_settings())
    return "\n".join(
        [
            "to serve it, set the LLM node's model in serve_config.yaml:",
            "      - name: LLM-local",
            "        user_config:",
            f"          model_dir: {model_dir}",
            f"then: serve deploy serve_config.yaml --address {head.dashboard_url}",
            "(applied in place, no restart; to go back, deploy the previous model_dir)",
        ]
    )
