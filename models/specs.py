"""What a config names to get a backend: one spec per backend `type`, and what the process's
settings give every backend (injected, so model code never reads the settings itself)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class BackendEnv:
    """The process's side of every backend: where prepared models live, the OpenAI secrets."""

    models_dir: Path
    openai_api_key: str = ""
    openai_base_url: str | None = None


class VLLMSpec(BaseModel):
    """A local model served by vLLM's async engine inside the replica."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["vllm"] = "vllm"
    model_dir: str = Field(description="A prepared model directory (`tutor models prepare`).")
    version: str | None = Field(None, description="Reported version; default: the manifest's.")
    max_model_len: int = Field(2048, ge=128)
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = Field(
        "auto", description="auto = float32 on CPU, the model's dtype on GPU."
    )
    kv_cache_gb: float = Field(
        0.25, gt=0, description="CPU KV cache; 0.25 GB holds ~5,700 tokens of SmolLM2."
    )
    gpu_memory_utilization: float = Field(0.85, gt=0, le=1)


class OpenAISpec(BaseModel):
    """A model tier behind the OpenAI API (or any compatible server at `base_url`)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["openai"] = "openai"
    model: str = Field(description="The upstream model name, e.g. gpt-4o-mini.")
    base_url: str | None = Field(None, description="Default: OPENAI_BASE_URL, else OpenAI.")
    timeout_s: float = Field(30.0, gt=0, description="Read timeout of one upstream call.")
    connect_timeout_s: float = Field(
        2.0, gt=0, description="An upstream that does not accept the connection by then is down."
    )


BackendSpec = Annotated[VLLMSpec | OpenAISpec, Field(discriminator="type")]
