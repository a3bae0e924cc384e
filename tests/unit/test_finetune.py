"""How a fine-tune run picks its device, encodes an example (the loss sees only the answer),
batches, stops within its budget, and computes its loss."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cluster.cli.main import app
from cluster.settings import get_settings
from tests.conftest import CURRICULUM
from tests.fakes.tokenizer import CharTokenizer
from training.errors import FinetuneError
from training.finetune import select_device
from training.finetune_data import build_dataset, read_curriculum
from training.finetune_train import (
    IGNORE,
    Encoded,
    batches,
    encode_example,
    fitting,
    pad_batch,
    should_stop,
)


@pytest.fixture(scope="module")
def train_examples():
    return build_dataset(read_curriculum(CURRICULUM), seed=7).train[:40]


def test_auto_takes_the_gpu_when_there_is_one_in_bf16_else_fp16():
    assert select_device("auto", cuda_available=True, bf16_supported=True).precision == "bf16"
    plan = select_device("auto", cuda_available=True, bf16_supported=False)
    assert (plan.device, plan.precision) == ("cuda", "fp16")


def test_auto_without_a_gpu_and_an_explicit_cpu_train_on_the_cpu_in_float32():
    for requested, cuda in (("auto", False), ("cpu", True), ("cpu", False)):
        plan = select_device(requested, cuda_available=cuda, bf16_supported=True)
        assert (plan.device, plan.precision) == ("cpu", "fp32")


def test_asking_for_a_gpu_that_is_not_there_is_an_error_that_says_so():
    with pytest.raises(FinetuneError, match="no CUDA device"):
        select_device("cuda", cuda_available=False)


def test_only_the_answer_tokens_are_targets():
    encoded = encode_example([5, 6, 7], [8, 9, 2], seq_len=6)
    assert encoded.input_ids == [5, 6, 7, 8, 9, 2]
    assert encoded.labels == [IGNORE, IGNORE, IGNORE, 8, 9, 2]
    with pytest.raises(ValueError, match="seq_len 5"):
        encode_example([5, 6, 7], [8, 9, 2], seq_len=5)


def test_an_encoded_example_is_the_served_prompt_then_the_answer_and_end_of_turn(train_examples):
    tokenizer = CharTokenizer()
    kept, _ = fitting(tokenizer, train_examples, seq_len=4096)
    example, encoded = kept[0]
    messages = [{"role": m.role, "content": m.content} for m in example.messages()]
    served = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    answer_at = encoded.labels.index(next(t for t in encoded.labels if t != IGNORE))
    assert tokenizer.decode(encoded.input_ids[:answer_at]) == served
    assert tokenizer.decode(encoded.labels[answer_at:]) == example.answer + "<|im_end|>"
    assert set(encoded.labels[:answer_at]) == {IGNORE}


def test_examples_longer_than_seq_len_are_dropped_and_counted_and_the_limit_counts_kept_ones(
    train_examples,
):
    tokenizer = CharTokenizer()
    all_of_them, _ = fitting(tokenizer, train_examples, 10**6)
    lengths = sorted(len(e.input_ids) for _, e in all_of_them)
    seq_len = lengths[len(lengths) // 2]
    kept, dropped = fitting(tokenizer, train_examples, seq_len)
    assert all(len(e.input_ids) <= seq_len for _, e in kept)
    assert len(kept) + dropped == len(train_examples) and dropped > 0
    kept, _ = fitting(tokenizer, train_examples, seq_len, limit=3)
    assert len(kept) == 3


def test_a_batch_is_padded_right_and_padding_is_neither_attended_nor_learned():
    ids, mask, labels = pad_batch([Encoded([1, 2, 3], [IGNORE, 2, 3]), Encoded([4], [4])], 0)
    assert ids == [[1, 2, 3], [4, 0, 0]]
    assert mask == [[1, 1, 1], [1, 0, 0]]
    assert labels == [[IGNORE, 2, 3], [4, IGNORE, IGNORE]]


def test_each_epoch_shows_every_example_once():
    examples = [Encoded([i] * (i % 7 + 1), [i]) for i in range(10)]
    feed = batches(examples, 3, random.Random(0))
    epoch = [e.labels[0] for _ in range(4) for e in next(feed)]  # 3 + 3 + 3 + 1
    assert sorted(epoch) == list(range(10))


def test_a_run_stops_at_max_steps_or_before_a_step_would_overrun_the_budget():
    assert should_stop(5, 5, elapsed_s=1, step_s=1, budget_s=100) == "max_steps"
    assert should_stop(5, None, elapsed_s=95, step_s=6, budget_s=100) == "budget"
    assert should_stop(5, 10, elapsed_s=90, step_s=6, budget_s=100) is None
    assert should_stop(0, None, elapsed_s=0, step_s=0, budget_s=1) is None


def test_the_answer_only_loss_is_the_models_own_loss_on_the_same_labels():
    torch = pytest.importorskip("torch")
    from transformers import LlamaConfig, LlamaForCausalLM

    from training.finetune_train import answer_loss

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=50, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=True,
    )  # fmt: skip
    model = LlamaForCausalLM(config).eval()
    batch = [
        Encoded([3, 4, 5, 6, 7], [IGNORE, IGNORE, IGNORE, 6, 7]),
        Encoded([8, 9, 10], [IGNORE, 9, 10]),
    ]
    ids, mask, labels = (torch.tensor(t) for t in pad_batch(batch, 0))
    expected = model(input_ids=ids, attention_mask=mask, labels=labels).loss
    assert torch.allclose(answer_loss(model, ids, mask, labels), expected, atol=1e-6)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def fake_base_model(data_dir: Path) -> None:
    """What check_base looks for; the CLI refuses the run before it would load the weights."""
    base = data_dir / "models" / "smollm2-135m-instruct"
    base.mkdir(parents=True)
    (base / "model.safetensors").touch()
    (base / "tutor-model.json").write_text('{"name": "smollm2-135m-instruct", "version": "v"}')


def finetune(*args: str) -> Result:
    return CliRunner().invoke(app, ["finetune", *args])


def test_tutor_finetune_without_a_prepared_base_model_says_how_to_make_one(data_dir: Path):
    result = finetune()
    assert result.exit_code == 2
    assert "tutor models prepare" in result.output
    assert str(data_dir / "models" / "smollm2-135m-instruct") in result.output


def test_tutor_finetune_never_writes_over_an_existing_model(data_dir: Path):
    fake_base_model(data_dir)
    (data_dir / "models" / "served").mkdir()
    result = finetune("--name", "served")
    assert result.exit_code == 2
    assert "served exists" in result.output


def test_a_name_that_is_not_a_plain_directory_name_is_refused(data_dir: Path):
    result = finetune("--name", "../elsewhere")
    assert result.exit_code == 2
    assert "--name" in result.output and not (data_dir / "elsewhere").exists()


def test_a_curriculum_folder_without_the_demo_files_is_named(data_dir: Path):
    fake_base_model(data_dir)
    result = finetune("--curriculum", str(data_dir))
    assert result.exit_code == 2
    assert str(data_dir / "chemistry.jsonl.gz") in result.output
