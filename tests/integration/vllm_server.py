"""vLLM's own OpenAI-compatible server (the CPU build) on the prepared model, for tests and
benchmarks that compare against it or use it as a real upstream."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.fakes.openai_server import free_port


def start(
    model_dir: Path, log: Path, served_name: str = "smollm2"
) -> tuple[subprocess.Popen[bytes], str]:
    """The server process and its base URL (`.../v1`); its output goes to `log`, not a pipe
    that nobody reads (a full pipe would stall it)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model_dir),
        "--served-model-name",
        served_name,
        "--dtype",
        "float32",
        "--enforce-eager",
        "--max-model-len",
        "2048",
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        "--kv-cache-memory-bytes",
        str(256 * 2**20),
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1"}
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    return server, f"http://127.0.0.1:{port}/v1"


def wait_until_serving(
    base_url: str, server: subprocess.Popen[bytes], log: Path, timeout_s: float = 300
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"vLLM exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(1)
    raise TimeoutError(base_url)


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=60)
