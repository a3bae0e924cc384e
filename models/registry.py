"""Backends by `type`: the constructor each spec (`models/specs.py`) maps to.

Heavy engines (vLLM) are imported only when a spec asks for them; the error for a missing one
lists what this install can run.
"""

from __future__ import annotations

from collections.abc import Callable

from models.backend import LLMBackend
from models.errors import UnknownBackendError
from models.specs import BackendEnv, BackendSpec, OpenAISpec, VLLMSpec


def _build_vllm(spec: BackendSpec, env: BackendEnv) -> LLMBackend:
    assert isinstance(spec, VLLMSpec)
    try:
        from models.vllm_backend import VLLMBackend
    except ImportError as exc:
        raise UnknownBackendError(
            f"vllm (not installed: {exc.name}; install the `cpu` or `gpu` extra)", ["openai"]
        ) from exc
    return VLLMBackend.from_spec(spec, env.models_dir)


def _build_openai(spec: BackendSpec, env: BackendEnv) -> LLMBackend:
    assert isinstance(spec, OpenAISpec)
    from models.openai_backend import OpenAIBackend

    base_url = spec.base_url or env.openai_base_url
    return OpenAIBackend(
        spec.model,
        env.openai_api_key,
        base_url,
        spec.timeout_s,
        connect_timeout_s=spec.connect_timeout_s,
    )


BUILDERS: dict[str, Callable[[BackendSpec, BackendEnv], LLMBackend]] = {
    "vllm": _build_vllm,
    "openai": _build_openai,
}


def build_backend(spec: BackendSpec, env: BackendEnv) -> LLMBackend:
    builder = BUILDERS.get(spec.type)
    if builder is None:
        raise UnknownBackendError(spec.type, list(BUILDERS))
    return builder(spec, env)
