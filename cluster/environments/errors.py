"""An overlay or base config that cannot be used; the message names the file and the key."""

from __future__ import annotations

from pathlib import Path


class ConfigFileError(ValueError):
    def __init__(self, path: Path, key: str, problem: str) -> None:
        self.path, self.key, self.problem = path, key, problem
        super().__init__(f"{path}: {key}: {problem}" if key else f"{path}: {problem}")

    def __reduce__(self) -> tuple[type, tuple[Path, str, str]]:
        return type(self), (self.path, self.key, self.problem)
