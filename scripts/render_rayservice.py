"""Refresh deploy/kuberay/rayservice.yaml's serveConfigV2 from serve_config.gpu.yaml.

Usage: python scripts/render_rayservice.py   (tests/unit/test_configs.py fails until it is run)
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "deploy" / "kuberay" / "rayservice.yaml"
START, END = "  serveConfigV2: |\n", "  rayClusterConfig:"


def embedded(config: str) -> str:
    body = "\n".join(line for line in config.splitlines() if not line.startswith("#")).strip()
    return "\n".join(f"    {line}" if line else "" for line in body.splitlines()) + "\n"


def main() -> None:
    manifest = MANIFEST.read_text()
    head, rest = manifest.split(START, 1)
    tail = rest[rest.index(END) :]
    config = (ROOT / "serve_config.gpu.yaml").read_text()
    MANIFEST.write_text(head + START + embedded(config) + tail)


if __name__ == "__main__":
    main()
