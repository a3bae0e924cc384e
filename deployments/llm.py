"""Graph node: one LLM backend (a vLLM engine or an OpenAI-compatible tier), swappable live.

The backend spec is the deployment's `user_config`: `serve deploy` with a new model directory or
version calls `reconfigure`, which loads the new backend beside the old one, switches new
requests to it, and closes the old one once its in-flight streams have finished.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from pydantic import TypeAdapter

from cluster.settings import Settings, get_settings
from deployments.logs import route_app_logs
from deployments.stream_batches import sent_as_asked
from models.backend import GenerationChunk, GenerationRequest, LLMBackend, ModelInfo
from models.errors import BackendUnavailable, ModelError
from models.registry import build_backend
from models.specs import BackendEnv, BackendSpec

log = logging.getLogger(__name__)
SPEC = TypeAdapter(BackendSpec)


def backend_env(settings: Settings) -> BackendEnv:
    key = settings.openai_api_key
    return BackendEnv(
        models_dir=settings.models_dir,
        openai_api_key=key.get_secret_value() if key else "",
        openai_base_url=settings.openai_base_url,
    )


class LLMServer:
    def __init__(self, name: str, spec: dict[str, Any]) -> None:
        self.name = name
        self._spec: BackendSpec = SPEC.validate_python(spec)
        settings = get_settings()
        route_app_logs(settings.effective_log_level)
        self._env = backend_env(settings)
        self._batch_interval_s = settings.stream_batch_interval_s
        self._backend: LLMBackend | None = None
        self._in_flight: dict[int, int] = {}  # id(backend) -> open streams
        self._swap_error = ""  # why the last swap failed (the old model still serves)

    async def reconfigure(self, config: dict[str, Any]) -> None:
        """Load CONFIG's backend beside the serving one and switch to it. A swap that cannot
        load (a model directory that is not there) keeps the serving model and reports the
        failure in `health`, where `tutor verify` finds it and rolls the release back: raising
        would make Serve replace this replica, and the node would answer nothing meanwhile."""
        merged = SPEC.validate_python({**self._spec.model_dump(), **config})
        self._swap_error = ""
        if self._backend is not None and merged == self._spec:
            return
        try:
            new_backend = await asyncio.to_thread(build_backend, merged, self._env)
            await new_backend.check()
        except (ModelError, OSError, ValueError) as error:
            if self._backend is None:
                raise  # nothing serves yet: a replica that cannot load must fail to start
            self._swap_error = f"{type(error).__name__}: {error}"
            log.error("%s keeps %s: the swap failed: %s", self.name, self._spec, self._swap_error)
            return
        old, self._backend, self._spec = self._backend, new_backend, merged
        log.info("%s now serves %s", self.name, new_backend.info)
        if old is not None:
            asyncio.get_running_loop().create_task(self._retire(old))

    async def _retire(self, backend: LLMBackend) -> None:
        while self._in_flight.get(id(backend), 0) > 0:
            await asyncio.sleep(0.1)
        await backend.close()
        log.info("%s closed %s", self.name, backend.info)

    def _current(self) -> LLMBackend:
        if self._backend is None:
            raise BackendUnavailable(f"{self.name} has no model loaded yet")
        return self._backend

    async def stream(
        self, request: GenerationRequest
    ) -> AsyncIterator[GenerationChunk | list[GenerationChunk]]:
        """The answer's chunks, in batches (one handle message each) when the caller asks."""
        chunks = self._chunks(request)
        async for message in sent_as_asked(chunks, request.batched_stream, self._batch_interval_s):
            yield message

    async def _chunks(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        backend = self._current()
        key = id(backend)
        self._in_flight[key] = self._in_flight.get(key, 0) + 1
        try:
            async for chunk in backend.stream(request):
                if chunk.finish_reason is not None:  # name the engine that really answered
                    chunk = replace(chunk, model=backend.info.model, version=backend.info.version)
                yield chunk
        finally:
            self._in_flight[key] -= 1

    async def check_health(self) -> None:
        """Serve's replica health check: a failed engine gets its replica replaced. An upstream
        outage does not fail it (the backend's `check` never calls the upstream)."""
        await self._current().check()

    async def describe(self) -> ModelInfo:
        return self._current().info

    async def health(self) -> dict[str, Any]:
        """This node's report for /health/detailed; a failing upstream is reported, not raised."""
        report: dict[str, Any] = {"backend": self._spec.type}
        try:
            backend = self._current()
            await backend.probe()
        except ModelError as error:
            return {**report, "status": "unhealthy", "error": f"{type(error).__name__}: {error}"}
        info = backend.info
        report |= {"status": "healthy", "model": info.model, "version": info.version}
        return report | ({"swap_error": self._swap_error} if self._swap_error else {})

    async def __del__(self) -> None:
        if self._backend is not None:
            await self._backend.close()
