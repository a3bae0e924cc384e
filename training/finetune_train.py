"""The steps of a fine-tune run: token ids with the prompt masked out of the loss, batches, the
budgeted training loop, and greedy answers to held-out questions. torch is imported inside the
functions that need it, so the pure parts load (and test) without it."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from evaluation.answers import is_right
from training.finetune_data import Example
from training.questions import judged

IGNORE = -100  # labels torch's cross-entropy skips: the prompt is context, not a target


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]


@dataclass
class TrainStats:
    steps: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)
    stopped_by: str = "max_steps"

    @property
    def final_loss(self) -> float | None:
        """The mean of the last ten steps' losses (one step's is noisy)."""
        tail = self.losses[-10:]
        return sum(tail) / len(tail) if tail else None


@dataclass(frozen=True)
class EvalResult:
    asked: int
    right: int
    seconds: float
    wrong: list[str]  # "question -> answer (expected value)", as `tutor eval answers` lists them

    @property
    def accuracy(self) -> float:
        return self.right / self.asked if self.asked else 0.0


def encode_example(prompt_ids: Sequence[int], answer_ids: Sequence[int], seq_len: int) -> Encoded:
    """The whole sequence, and labels that hold only the answer's tokens (the prompt's are
    IGNORE), so the model learns to answer, not to write prompts."""
    if len(prompt_ids) + len(answer_ids) > seq_len:
        raise ValueError(f"{len(prompt_ids) + len(answer_ids)} tokens > seq_len {seq_len}")
    return Encoded([*prompt_ids, *answer_ids], [IGNORE] * len(prompt_ids) + list(answer_ids))


def prompt_ids(tokenizer: Any, example: Example) -> list[int]:
    """The prompt as vLLM renders it at serving time: the chat template, generation prompt on."""
    messages = [{"role": m.role, "content": m.content} for m in example.messages()]
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return list(tokenizer(text, add_special_tokens=False).input_ids)


def fitting(
    tokenizer: Any, examples: Sequence[Example], seq_len: int, limit: int | None = None
) -> tuple[list[tuple[Example, Encoded]], int]:
    """The first `limit` examples that fit `seq_len`, encoded, and how many were passed over.
    Longer ones are dropped, not cut: a cut prompt is not what the model is served, and a cut
    answer teaches it to stop mid-sentence."""
    kept: list[tuple[Example, Encoded]] = []
    dropped = 0
    for example in examples:
        if limit is not None and len(kept) >= limit:
            break
        answer = [*tokenizer(example.answer, add_special_tokens=False).input_ids]
        # The end-of-turn token is a target: it is what ends the answer at serving time.
        answer.append(tokenizer.eos_token_id)
        prompt = prompt_ids(tokenizer, example)
        if len(prompt) + len(answer) <= seq_len:
            kept.append((example, encode_example(prompt, answer, seq_len)))
        else:
            dropped += 1
    return kept, dropped


def pad_batch(batch: Sequence[Encoded], pad_id: int) -> tuple[list[list[int]], ...]:
    """Right-padded input ids, attention mask and labels (padding is IGNORE'd)."""
    width = max(len(e.input_ids) for e in batch)
    ids = [e.input_ids + [pad_id] * (width - len(e.input_ids)) for e in batch]
    mask = [[1] * len(e.input_ids) + [0] * (width - len(e.input_ids)) for e in batch]
    labels = [e.labels + [IGNORE] * (width - len(e.labels)) for e in batch]
    return ids, mask, labels


def batches(
    encoded: Sequence[Encoded], size: int, rng: random.Random, window: int = 8
) -> Iterator[list[Encoded]]:
    """Endless batches, reshuffled each epoch; within windows of `window` batches examples of
    similar length go together, so padding wastes little compute."""
    while True:
        order = list(encoded)
        rng.shuffle(order)
        for start in range(0, len(order), size * window):
            chunk = sorted(order[start : start + size * window], key=lambda e: len(e.input_ids))
            group = [chunk[i : i + size] for i in range(0, len(chunk), size)]
            rng.shuffle(group)
            yield from group


def should_stop(
    steps: int, max_steps: int | None, elapsed_s: float, step_s: float, budget_s: float
) -> str | None:
    """Why to stop before the next step, if at all: max_steps reached, or the budget would be
    overrun by one more step of the mean duration so far."""
    if max_steps is not None and steps >= max_steps:
        return "max_steps"
    if elapsed_s + step_s > budget_s:
        return "budget"
    return None


@dataclass(frozen=True)
class LoopSettings:
    batch_size: int
    lr: float
    warmup_steps: int
    max_steps: int | None
    budget_s: float
    precision: str  # fp32 | bf16 | fp16
    seed: int


def train(
    model: Any,
    encoded: Sequence[Encoded],
    settings: LoopSettings,
    pad_id: int,
    progress: Callable[[int, float], None] = lambda _s, _l: None,
) -> TrainStats:
    """AdamW over the trainable (LoRA) parameters, warmed up then constant, until
    `should_stop` says so (the wall clock is checked before every step)."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=settings.lr, weight_decay=0.0)
    warmup = max(1, settings.warmup_steps)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))
    # Loss scaling only for fp16 (a GPU without bf16); a no-op otherwise.
    scaler = torch.amp.GradScaler("cuda", enabled=settings.precision == "fp16")
    feed = batches(encoded, settings.batch_size, random.Random(settings.seed))
    stats, started = TrainStats(), time.monotonic()
    model.train()
    while True:
        elapsed = time.monotonic() - started
        mean_step = elapsed / stats.steps if stats.steps else 0.0
        reason = should_stop(stats.steps, settings.max_steps, elapsed, mean_step, settings.budget_s)
        if reason:
            stats.stopped_by, stats.seconds = reason, elapsed
            return stats
        loss = backward(model, next(feed), pad_id, settings.precision, scaler)
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)
        schedule.step()
        stats.steps += 1
        stats.losses.append(loss)
        progress(stats.steps, loss)


def backward(
    model: Any, batch: Sequence[Encoded], pad_id: int, precision: str, scaler: Any
) -> float:
    """Forward and backward of one batch; returns its loss (mean over the answer tokens)."""
    import torch

    device = next(model.parameters()).device
    ids, mask, labels = (torch.tensor(t, device=device) for t in pad_batch(batch, pad_id))
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
        loss = answer_loss(model, ids, mask, labels)
    scaler.scale(loss).backward()
    return float(loss.detach())


def answer_loss(model: Any, ids: Any, mask: Any, labels: Any) -> Any:
    """Cross-entropy of the answer tokens, with the vocabulary projection computed only where a
    token is predicted: the whole sequence's logits (49K a token) were ~20% of a CPU step and
    most of its memory, for positions the loss ignores."""
    import torch

    causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
    hidden = causal_lm.get_decoder()(input_ids=ids, attention_mask=mask).last_hidden_state
    targets = labels[:, 1:]  # position t predicts token t+1
    predicted = targets != IGNORE
    logits = causal_lm.get_output_embeddings()(hidden[:, :-1][predicted])
    return torch.nn.functional.cross_entropy(logits.float(), targets[predicted])


def evaluate(
    model: Any, tokenizer: Any, examples: Sequence[Example], max_new_tokens: int
) -> EvalResult:
    """Greedy answers to held-out questions (their prompts as served), judged like
    `tutor eval answers` judges a served answer."""
    import torch

    device = next(model.parameters()).device
    model.eval()
    answers, started = [], time.monotonic()
    with torch.no_grad():
        for example in examples:
            ids = torch.tensor([prompt_ids(tokenizer, example)], device=device)
            out = model.generate(
                ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
            )
            answers.append(tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True))
    wrong = [
        f"{e.item.question} -> {a[:100]!r} (expected {e.item.expected[:60]})"
        for a, e in zip(answers, examples, strict=True)
        if not is_right(a, judged(e.item))
    ]
    return EvalResult(len(examples), len(examples) - len(wrong), time.monotonic() - started, wrong)
