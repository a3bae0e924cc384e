"""A fault-injecting OpenAI-compatible server, started by tests in a background thread.

It speaks `/v1/models` and `/v1/chat/completions` (streaming or not) well enough for the
official `openai` client, answers from the first source in its prompt, and can be told to
misbehave: added latency, 429 with Retry-After, 500, hanging (a client timeout), or a stream
that drops after some tokens. Faults are set per server through `FaultServer.set(...)`.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

Mode = Literal["ok", "rate_limit", "error", "hang", "drop"]
FIRST_SOURCE = re.compile(r"^\[1\] (.+)$", re.MULTILINE)


@dataclass
class Faults:
    mode: Mode = "ok"
    latency_s: float = 0.0
    retry_after_s: float = 1.0
    drop_after_tokens: int = 3
    # Fail only the first N requests (then behave): models a transient outage.
    fail_first: int | None = None
    # Answer 500 at random to this share of requests (mode "ok"): a flaky upstream.
    failure_rate: float = 0.0
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    calls: int = 0
    seen: list[dict[str, Any]] = field(default_factory=list)


def answer_for(messages: list[dict[str, str]]) -> str:
    match = FIRST_SOURCE.search(messages[0]["content"]) if messages else None
    return f"From [1]: {match.group(1)[:120]}" if match else "I do not know."


def chunk(model: str, text: str | None, finish: str | None = None) -> str:
    delta = {"content": text} if text is not None else {}
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def usage_chunk(model: str, prompt: int, completion: int) -> str:
    body = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }
    return f"data: {json.dumps(body)}\n\n"


def build_app(faults: Faults, model: str) -> FastAPI:
    app = FastAPI()

    @app.post("/_faults")
    async def set_faults(request: Request) -> dict[str, int]:
        """For a server in another process (`UpstreamProcess`): set faults, read the calls."""
        for key, value in (await request.json()).items():
            setattr(faults, key, value)
        faults.calls = 0
        return {"calls": faults.calls}

    @app.get("/_faults")
    async def get_faults() -> dict[str, int]:
        return {"calls": faults.calls}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model, "object": "model", "owned_by": "test"}]}

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(request: Request) -> Any:
        body = await request.json()
        faults.calls += 1
        faults.seen = [*faults.seen[-99:], body]
        await asyncio.sleep(faults.latency_s)
        failing = faults.fail_first is None or faults.calls <= faults.fail_first
        mode = faults.mode if failing else "ok"
        if mode == "ok" and faults.rng.random() < faults.failure_rate:
            mode = "error"
        if mode == "rate_limit":
            return JSONResponse(
                {"error": {"message": "slow down", "type": "rate_limit"}},
                429,
                headers={"retry-after": str(faults.retry_after_s)},
            )
        if mode == "error":
            return JSONResponse({"error": {"message": "upstream broke", "type": "server"}}, 500)
        if mode == "hang":
            await asyncio.sleep(3600)
        text = answer_for(body.get("messages", []))
        if body.get("stream"):
            return StreamingResponse(
                stream(model, text, mode, faults), media_type="text/event-stream"
            )
        return completion(model, text)

    return app


async def stream(model: str, text: str, mode: Mode, faults: Faults) -> AsyncIterator[str]:
    words = text.split(" ")
    for number, word in enumerate(words):
        if mode == "drop" and number == faults.drop_after_tokens:
            raise ConnectionResetError("fault injected: stream dropped")
        yield chunk(model, word if number == 0 else " " + word)
    yield chunk(model, None, "stop")
    yield usage_chunk(model, 50, len(words))
    yield "data: [DONE]\n\n"


def completion(model: str, text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
        ],
        "usage": {
            "prompt_tokens": 50,
            "completion_tokens": len(text.split()),
            "total_tokens": 50 + len(text.split()),
        },
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class FaultServer:
    """Runs the fake upstream under uvicorn in a daemon thread on a free loopback port."""

    def __init__(self, model: str = "fake-model", port: int | None = None) -> None:
        self.faults = Faults()
        self.model = model
        self.port = port or free_port()  # a given port: the same upstream, back after an outage
        config = uvicorn.Config(
            build_app(self.faults, model),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def set(self, **changes: Any) -> None:
        for key, value in changes.items():
            setattr(self.faults, key, value)
        self.faults.calls = 0

    def start(self) -> FaultServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Gone at once, as a killed upstream is: open connections drop, nothing drains."""
        self._server.force_exit = True
        self._server.should_exit = True
        self._thread.join(timeout=10)


@contextmanager
def fault_server(model: str = "fake-model") -> Iterator[FaultServer]:
    server = FaultServer(model).start()
    try:
        yield server
    finally:
        server.stop()


class UpstreamProcess:
    """The same fake upstream in a process of its own, so that a test can kill it as an
    outage does: SIGKILL, and the kernel resets every connection it held (a server thread
    cannot be killed; its half-closed sockets would hang clients instead)."""

    def __init__(self, port: int | None = None, model: str = "fake-model") -> None:
        self.port = port or free_port()
        self.model = model
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> UpstreamProcess:
        command = [sys.executable, "-m", "tests.fakes.openai_server", str(self.port), self.model]
        root = Path(__file__).resolve().parents[2]
        self._proc = subprocess.Popen(command, cwd=root, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{self.port}/_faults", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"the fake upstream on {self.port} did not start")

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def set(self, **changes: Any) -> None:
        httpx.post(f"http://127.0.0.1:{self.port}/_faults", json=changes, timeout=5)

    @property
    def calls(self) -> int:
        calls: int = httpx.get(f"http://127.0.0.1:{self.port}/_faults", timeout=5).json()["calls"]
        return calls

    def kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=10)
            self._proc = None


if __name__ == "__main__":
    port, served = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(build_app(Faults(), served), host="127.0.0.1", port=port, log_level="warning")
