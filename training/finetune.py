"""Fine-tune SmolLM2-135M-Instruct on the curriculum (LoRA, then merged into the weights) within
a time budget, and write a versioned model directory the LLM node can serve.

Plain Python (no Ray): `tutor finetune` is a thin command over `run_finetune`. The directory,
`$DATA_DIR/models/<name>/`, is built beside its final place and moved there whole, manifest
last; its `tutor-model.json` names the base model, the data's hash, the steps and the figures
of the run's own evaluation (held-out documents, base model against fine-tuned).
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.prepare import (
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    check_saved,
    read_manifest,
    swap_into_place,
    write_json_atomic,
)
from training.errors import FinetuneError
from training.finetune_data import (
    SUBJECTS,
    DataConfig,
    DataSet,
    Example,
    build_dataset,
    eval_sample,
    examples_sha256,
    read_curriculum,
)
from training.finetune_train import (
    Encoded,
    EvalResult,
    LoopSettings,
    TrainStats,
    evaluate,
    fitting,
    train,
)

NAME_PREFIX = "smollm2-curriculum"
Precision = Literal["fp32", "bf16", "fp16"]


class LoraSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    # 0: dropout costs a copy of every adapted layer's input; with 0.05 a CPU step took ~1.5x
    # the CPU time and ~1.3x the memory (docs/DEPLOYMENT.md).
    dropout: float = Field(0.0, ge=0, lt=1)
    # Every linear layer of a Llama block (attention and MLP).
    target_modules: list[str] = Field(
        default_factory=lambda: [
            "q_proj",
            "k_proj",
            "v_proj",
            "o_proj",
            "gate_proj",
            "up_proj",
            "down_proj",
        ]
    )


class FinetuneConfig(BaseModel):
    """One run of `tutor finetune`."""

    model_config = ConfigDict(extra="forbid")

    base_dir: Path = Field(description="A prepared model directory (`tutor models prepare`).")
    models_dir: Path = Field(description="Where the new model directory is written.")
    curriculum_dir: Path = Field(Path("data/curriculum"), description="The demo curriculum.")
    name: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description=f"A directory name under models_dir; default: {NAME_PREFIX}-<UTC time>.",
    )
    budget_minutes: float = Field(30, gt=0, description="Training stops before it overruns this.")
    max_steps: int | None = Field(None, ge=1)
    examples: int | None = Field(None, ge=1, description="Use the first N examples that fit.")
    seq_len: int = Field(512, ge=64, description="Longer examples are dropped (not cut).")
    batch_size: int = Field(4, ge=1)
    method: Literal["lora", "full"] = Field(
        "lora", description="lora: adapters merged into the weights at the end; full: every weight."
    )
    lr: float | None = Field(None, gt=0, description="Default: 3e-4 for lora, 3e-5 for full.")
    warmup_steps: int = Field(10, ge=0)
    lora: LoraSettings = Field(default_factory=LoraSettings)
    data: DataConfig = Field(default_factory=DataConfig)
    eval_limit: int = Field(20, ge=0, description="Held-out questions asked of both models.")
    eval_max_new_tokens: int = Field(64, ge=1)
    seed: int = 20261201
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int | None = Field(None, ge=1, description="CPU threads; default: torch's.")


@dataclass(frozen=True)
class DevicePlan:
    device: Literal["cpu", "cuda"]
    precision: Precision


def select_device(requested: str, cuda_available: bool, bf16_supported: bool = False) -> DevicePlan:
    """auto: the GPU when there is one. On a GPU the forward runs in bf16 (fp16 with loss
    scaling where bf16 is missing); the weights, and what is saved, stay float32."""
    if requested == "cuda" and not cuda_available:
        raise FinetuneError("--device cuda: no CUDA device is visible to torch")
    if requested == "cpu" or not cuda_available:
        return DevicePlan("cpu", "fp32")
    return DevicePlan("cuda", "bf16" if bf16_supported else "fp16")


@dataclass(frozen=True)
class FinetuneResult:
    path: Path
    manifest: dict[str, Any]


def check_base(base_dir: Path) -> dict[str, Any]:
    """The base model's manifest; refuses a directory that is not a prepared model."""
    manifest = read_manifest(base_dir)
    if manifest is None or not (base_dir / "model.safetensors").is_file():
        raise FinetuneError(
            f"no prepared base model at {base_dir} (run `tutor models prepare`, or pass --base)"
        )
    return manifest


def target_dir(config: FinetuneConfig, now: datetime) -> Path:
    name = config.name or f"{NAME_PREFIX}-{now.strftime('%Y%m%dT%H%M%SZ')}"
    path = config.models_dir.resolve() / name
    if path.exists():
        raise FinetuneError(
            f"{path} exists; pick another --name (a served model is never replaced)"
        )
    return path


def load_data(config: FinetuneConfig) -> DataSet:
    files = [config.curriculum_dir / f"{subject}.jsonl.gz" for subject in SUBJECTS]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FinetuneError(f"no curriculum file {', '.join(missing)} (pass --curriculum)")
    return build_dataset(read_curriculum(config.curriculum_dir), config.seed, config.data)


def load_model(base_dir: Path, plan: DevicePlan) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    model: Any = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype="float32")
    return model.to(plan.device), tokenizer


def with_lora(model: Any, lora: LoraSettings) -> Any:
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=list(lora.target_modules),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def save_plain(model: Any, tokenizer: Any, build: Path) -> None:
    """A plain float32 model vLLM serves as it is (LoRA adapters folded into the weights)."""
    import torch

    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.to("cpu", dtype=torch.float32).save_pretrained(str(build), safe_serialization=True)
    tokenizer.save_pretrained(str(build))
    check_saved(build)


def eval_figures(base: EvalResult | None, tuned: EvalResult | None) -> dict[str, Any]:
    if base is None or tuned is None:
        return {"held_out_questions": 0}
    return {
        "held_out_questions": tuned.asked,
        "base_right": base.right,
        "base_accuracy": round(base.accuracy, 4),
        "finetuned_right": tuned.right,
        "finetuned_accuracy": round(tuned.accuracy, 4),
        "seconds": round(base.seconds + tuned.seconds, 1),
        "finetuned_wrong": tuned.wrong[:5],
    }


def build_manifest(
    config: FinetuneConfig,
    name: str,
    base: dict[str, Any],
    trained: TrainingData,
    stats: TrainStats,
    plan: DevicePlan,
    figures: dict[str, Any],
) -> dict[str, Any]:
    """What identifies the directory: `version` is what the LLM node reports for it."""
    return {
        "format": MANIFEST_FORMAT,
        "name": name,
        "version": f"{name}@{trained.sha256[:8]}-{stats.steps}steps",
        "dtype": "float32",
        "base_model": base.get("name"),
        "base_version": base.get("version"),
        "method": "lora-merged" if config.method == "lora" else "full",
        "lora": config.lora.model_dump() if config.method == "lora" else None,
        "data_sha256": trained.sha256,
        "examples": len(trained.encoded),
        "examples_dropped_too_long": trained.dropped,
        "held_out_examples": trained.held_out,
        "steps": stats.steps,
        "stopped_by": stats.stopped_by,
        "seconds": round(stats.seconds, 1),
        "final_loss": None if stats.final_loss is None else round(stats.final_loss, 4),
        "batch_size": config.batch_size,
        "seq_len": config.seq_len,
        "lr": learning_rate(config),
        "seed": config.seed,
        "device": plan.device,
        "precision": plan.precision,
        "eval": figures,
    }


@dataclass(frozen=True)
class TrainingData:
    """The examples that fit the sequence length, encoded, and what identifies them."""

    encoded: list[Encoded]
    sha256: str
    dropped: int
    held_out: int


def prepare_data(config: FinetuneConfig, data: DataSet, tokenizer: Any) -> TrainingData:
    kept, dropped = fitting(tokenizer, data.train, config.seq_len, config.examples)
    if not kept:
        raise FinetuneError(f"no training example fits --seq-len {config.seq_len}")
    return TrainingData(
        encoded=[encoded for _, encoded in kept],
        sha256=examples_sha256([example for example, _ in kept]),
        dropped=dropped,
        held_out=len(data.held_out),
    )


def learning_rate(config: FinetuneConfig) -> float:
    # Adapters start at zero and are few: they take a rate ten times a full fine-tune's.
    return config.lr or (3e-4 if config.method == "lora" else 3e-5)


def pad_id(tokenizer: Any) -> int:
    # Padding is masked out of attention and loss, so any id does; SmolLM2 names one.
    return int(
        tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    )


def bf16_available() -> bool:
    import torch

    return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())


def loop_settings(config: FinetuneConfig, plan: DevicePlan) -> LoopSettings:
    return LoopSettings(
        batch_size=config.batch_size,
        lr=learning_rate(config),
        warmup_steps=config.warmup_steps,
        max_steps=config.max_steps,
        budget_s=config.budget_minutes * 60,
        precision=plan.precision,
        seed=config.seed,
    )


def measure(
    model: Any, tokenizer: Any, questions: list[Example], config: FinetuneConfig
) -> EvalResult | None:
    if not questions:
        return None
    return evaluate(model, tokenizer, questions, config.eval_max_new_tokens)


def describe_data(trained: TrainingData, config: FinetuneConfig, plan: DevicePlan) -> str:
    return (
        f"{len(trained.encoded)} training examples ({trained.dropped} longer than "
        f"{config.seq_len} tokens dropped), {trained.held_out} held out; data sha256 "
        f"{trained.sha256[:12]}; {plan.device} {plan.precision}; budget {config.budget_minutes:g} "
        f"min" + (f", at most {config.max_steps} steps" if config.max_steps else "")
    )


@contextlib.contextmanager
def progress_bar(config: FinetuneConfig) -> Iterator[Callable[[int, float], None]]:
    """A tqdm bar over the steps (to stderr), with the last step's loss."""
    from tqdm import tqdm

    with tqdm(total=config.max_steps, desc="fine-tune", unit="step") as bar:

        def step(_steps: int, loss: float) -> None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}")

        yield step


def write_model_dir(model: Any, tokenizer: Any, dest: Path, manifest: dict[str, Any]) -> None:
    """Build beside `dest`, manifest last (its presence marks the directory whole), then move
    it into place: the LLM node never sees half a model."""
    build = dest.with_name(f".{dest.name}.build-{uuid.uuid4().hex}")
    build.mkdir(parents=True)
    try:
        save_plain(model, tokenizer, build)
        write_json_atomic(build / MANIFEST_NAME, manifest)
        swap_into_place(build, dest)
    finally:
        shutil.rmtree(build, ignore_errors=True)


def run_finetune(config: FinetuneConfig, log: Callable[[str], None] = print) -> FinetuneResult:
    """Build the data, measure the base model, train, measure again, write the directory."""
    base = check_base(config.base_dir)
    dest = target_dir(config, datetime.now(UTC))
    data = load_data(config)
    import torch  # after the checks: an operator's mistake is reported in a blink

    plan = select_device(config.device, torch.cuda.is_available(), bf16_available())
    torch.manual_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    model, tokenizer = load_model(config.base_dir, plan)
    trained = prepare_data(config, data, tokenizer)
    log(describe_data(trained, config, plan))
    questions = eval_sample(data.held_out, config.eval_limit)
    log(f"asking the base model {len(questions)} held-out questions")
    base_eval = measure(model, tokenizer, questions, config)
    if config.method == "lora":
        model = with_lora(model, config.lora)
    with progress_bar(config) as bar:
        stats = train(model, trained.encoded, loop_settings(config, plan), pad_id(tokenizer), bar)
    log(f"{stats.steps} steps in {stats.seconds:.0f} s (stopped by {stats.stopped_by})")
    log(f"asking the fine-tuned model {len(questions)} held-out questions")
    tuned_eval = measure(model, tokenizer, questions, config)
    figures = eval_figures(base_eval, tuned_eval)
    manifest = build_manifest(config, dest.name, base, trained, stats, plan, figures)
    write_model_dir(model, tokenizer, dest, manifest)
    return FinetuneResult(dest, manifest)
