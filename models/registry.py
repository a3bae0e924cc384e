"""Backends by `type`: the spec a config names, and the constructor it maps to.

Heavy engines (vLLM) are imported only when a spec asks for them; the error for a missing one
lists what this install can run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.backend import LLMBackend
from models.errors import UnknownBackendError


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
    timeout_s: float = Field(30.0, gt=0)


BackendSpec = Annotated[VLLMSpec | OpenAISpec, Field(discriminator="type")]


def _build_vllm(spec: BackendSpec) -> LLMBackend:
    assert isinstance(spec, VLLMSpec)
    try:
        from models.vllm_backend import VLLMBackend
    except ImportError as exc:
        raise UnknownBackendError(
            f"vllm (not installed: {exc.name}; install the `cpu` or `gpu` extra)", ["openai"]
        ) from exc
    return VLLMBackend.from_spec(spec)


def _build_openai(spec: BackendSpec) -> LLMBackend:
    assert isinstance(spec, OpenAISpec)
    from cluster.settings import get_settings
    from models.openai_backend import OpenAIBackend

    settings = get_settings()
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    base_url = spec.base_url or settings.openai_base_url
    return OpenAIBackend(spec.model, key, base_url, spec.timeout_s)


BUILDERS: dict[str, Callable[[BackendSpec], LLMBackend]] = {
    "vllm": _build_vllm,
    "openai": _build_openai,
}


def build_backend(spec: BackendSpec) -> LLMBackend:
    builder = BUILDERS.get(spec.type)
    if builder is None:
        raise UnknownBackendError(spec.type, list(BUILDERS))
    return builder(spec)
