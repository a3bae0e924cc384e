"""`tutor finetune`, the tiny run CI does: the pipeline writes a versioned directory that
transformers loads and generates with, whose manifest says what it was made from."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.integration.tiny_finetune import TINY_ARGS, tiny_finetuned_model

pytestmark = pytest.mark.integration
BASE = ROOT / "var" / "models" / "smollm2-135m-instruct"


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    if not (BASE / "tutor-model.json").is_file():
        pytest.skip(f"no prepared base model at {BASE} (make prepare)")
    models = tmp_path / "var" / "models"
    models.mkdir(parents=True)
    (models / BASE.name).symlink_to(BASE)  # read only: the run writes beside it
    return models


def test_the_tiny_run_writes_a_model_that_loads_generates_and_says_what_it_is(models_dir: Path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.perf_counter()
    manifest = tiny_finetuned_model(models_dir, "smollm2-curriculum-ci")
    print(f"tiny fine-tune {time.perf_counter() - started:.1f} s ({' '.join(TINY_ARGS)})")
    out = models_dir / "smollm2-curriculum-ci"
    assert manifest["steps"] == 2 and manifest["method"] == "lora-merged"
    assert len(manifest["data_sha256"]) == 64 and manifest["examples"] == 8
    assert manifest["base_version"].startswith("smollm2-135m-instruct@")
    assert manifest["version"].startswith("smollm2-curriculum-ci@")
    assert manifest["eval"]["held_out_questions"] == 1
    assert (out / "config.json").is_file() and (out / "model.safetensors").is_file()
    assert not [p for p in os.listdir(models_dir) if p.startswith(".")]  # no build left behind

    tokenizer = AutoTokenizer.from_pretrained(str(out))
    model = AutoModelForCausalLM.from_pretrained(str(out))
    assert model.dtype == torch.float32  # what vLLM's CPU build serves
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "What is a noun?"}], add_generation_prompt=True, tokenize=False
    )
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids
    reply = model.generate(ids, max_new_tokens=8, do_sample=False)[0, ids.shape[1] :]
    assert tokenizer.decode(reply, skip_special_tokens=True).strip()
