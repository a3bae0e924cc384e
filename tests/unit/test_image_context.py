"""The tutor images build from the repository root, and `.dockerignore` admits only what they
COPY: a directory a Dockerfile copies but the ignore file leaves out fails the build ("COPY
failed: file not found in build context"), which no other test sees (CI builds no image)."""

from __future__ import annotations

import shlex
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Built with the repository root as the context (scripts/build_images.sh).
ROOT_CONTEXT_DOCKERFILES = ["Dockerfile", "deploy/docker/tutor-lite/Dockerfile"]
# Staged into the context by scripts/build_images.sh just before the build, not in git.
STAGED = (".docker-build", ".docker-build-indexes")


def ignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def matches(pattern: str, path: str) -> bool:
    """Docker's matching of one pattern against a path relative to the context, for the forms
    .dockerignore uses here: shell wildcards within a segment, and "**" for any segments."""
    return _match(pattern.strip("/").split("/"), path.split("/"))


def _match(pattern: list[str], path: list[str]) -> bool:
    if not pattern:
        return not path
    if pattern[0] == "**":
        return any(_match(pattern[1:], path[i:]) for i in range(len(path) + 1))
    return bool(path) and fnmatchcase(path[0], pattern[0]) and _match(pattern[1:], path[1:])


def excluded(path: str, patterns: list[str]) -> bool:
    """The last pattern matching the path or one of its parent directories decides; "!" lets
    it back in (Docker's rule)."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    verdict = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if any(matches(pattern.lstrip("!"), prefix) for prefix in prefixes):
            verdict = not negated
    return verdict


def copied_sources(dockerfile: str) -> list[str]:
    """What each COPY takes from the build context (not from another stage)."""
    sources = []
    for line in (ROOT / dockerfile).read_text().splitlines():
        if not line.upper().startswith("COPY "):
            continue
        words = shlex.split(line)
        args = [w for w in words[1:] if not w.startswith("--")]
        if any(w.startswith("--from") for w in words[1:]):
            continue
        sources.extend(args[:-1])
    return sources


def test_the_matcher_follows_dockers_rules():
    patterns = ["*", "!config/", "**/__pycache__"]
    assert excluded("var/indexes", patterns)
    assert not excluded("config/production.yaml", patterns)
    assert excluded("config/__pycache__/x.pyc", patterns)


@pytest.mark.parametrize("dockerfile", ROOT_CONTEXT_DOCKERFILES)
def test_everything_an_image_copies_is_in_its_build_context(dockerfile: str):
    patterns = ignore_patterns()
    sources = copied_sources(dockerfile)
    assert "cluster" in sources  # the parse found the COPY lines
    left_out = [s for s in sources if excluded(s, patterns)]
    missing = [s for s in sources if not s.startswith(STAGED) and not (ROOT / s).exists()]
    assert left_out == [], f".dockerignore leaves out what {dockerfile} copies"
    assert missing == [], f"{dockerfile} copies what the repository does not have"


@pytest.mark.parametrize("dockerfile", ROOT_CONTEXT_DOCKERFILES)
def test_every_package_the_project_installs_is_copied_into_the_image(dockerfile: str):
    """A package added to pyproject.toml but not to the image imports nowhere in a container
    (grounding/, training/ and evaluation/ were missed once)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = config["tool"]["mypy"]["packages"]
    copied = set(copied_sources(dockerfile))
    assert [p for p in packages if p not in copied] == []
