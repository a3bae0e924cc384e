"""A character tokenizer with SmolLM2's ChatML chat template, for unit tests of how fine-tune
examples are encoded: one id a character (its code point + 3), so a test reads ids as text.

Real code with the part of the Hugging Face tokenizer interface `training.finetune_train` uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SPECIAL = {"<|endoftext|>": 0, "<|im_start|>": 1, "<|im_end|>": 2}


@dataclass
class Encoding:
    input_ids: list[int]


class CharTokenizer:
    eos_token_id = SPECIAL["<|im_end|>"]
    pad_token_id = SPECIAL["<|im_end|>"]

    def apply_chat_template(
        self, messages: list[dict[str, Any]], add_generation_prompt: bool, tokenize: bool
    ) -> str:
        assert not tokenize  # the code under test renders text, then encodes it
        text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")

    def __call__(self, text: str, add_special_tokens: bool = True) -> Encoding:
        assert not add_special_tokens
        ids: list[int] = []
        while text:
            special = next((s for s in SPECIAL if text.startswith(s)), None)
            if special:
                ids.append(SPECIAL[special])
                text = text[len(special) :]
            else:
                ids.append(ord(text[0]) + 3)
                text = text[1:]
        return Encoding(ids)

    def decode(self, ids: list[int]) -> str:
        names = {v: k for k, v in SPECIAL.items()}
        return "".join(names.get(i, chr(i - 3) if i >= 3 else "") for i in ids)
