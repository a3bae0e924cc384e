#!/usr/bin/env bash
# Build every image docker-compose.yml runs, one build at a time, on a machine that reaches
# Debian's mirror and a Python package index but no container registry:
#   1. the Debian base (scripts/build_base_image.sh: debootstrap + docker import), once;
#   2. .docker-build/: this host's extra CA certificates and its local CPU torch wheel, which
#      the tutor image's build stage uses to reach the index (nothing of it is in the runtime);
#   3. redis, postgres, prometheus (deploy/docker/*), then the tutor images.
#
#   scripts/build_images.sh [IMAGE...]     # images: base redis postgres prometheus tutor tutor-lite
#
# Environment: EXTRA_CA_DIR (/usr/local/share/ca-certificates), TAG (0.1.0), PREBUILT_INDEXES
# (unset: the tutor image embeds the demo curriculum itself; var/indexes: it takes the shards
# `make prepare` built from this checkout, which saves 10-30 minutes of a 2-core build).
set -euo pipefail
cd "$(dirname "$0")/.."

export DOCKER_BUILDKIT=0   # the classic builder: BuildKit pulls its frontend from a registry
BASE_IMAGE=${BASE_IMAGE:-ai-tutor/debian:bookworm}
TAG=${TAG:-0.1.0}
IMAGES=("$@")
[[ ${#IMAGES[@]} -gt 0 ]] || IMAGES=(base redis postgres prometheus tutor tutor-lite)

STAGED=
stage_build_extras() {
  [[ -z $STAGED ]] || return 0
  STAGED=1
  rm -rf .docker-build
  mkdir -p .docker-build/ca .docker-build/wheels
  local ca_dir=${EXTRA_CA_DIR:-/usr/local/share/ca-certificates}
  find "$ca_dir" -name '*.crt' -exec cp {} .docker-build/ca/ \; 2>/dev/null || true
  rm -rf .docker-build-indexes
  mkdir -p .docker-build-indexes
  if [[ -n ${PREBUILT_INDEXES:-} ]]; then
    cp -rL "$PREBUILT_INDEXES"/. .docker-build-indexes/
  fi
  # The host's pip configuration (find-links, local indexes) decides which torch this is.
  python3 -m pip download --quiet --no-deps --dest .docker-build/wheels torch==2.13.0
  TORCH_INDEX_ARG=()
  if compgen -G '.docker-build/wheels/torch-2.13.0+cpu-*.whl' >/dev/null; then
    TORCH_INDEX_ARG=(--build-arg TORCH_INDEX_URL=)   # the CPU wheel is here: no torch index
  else
    rm -f .docker-build/wheels/torch-*.whl           # a CUDA build: let the image use the CPU index
  fi
}

build() {  # build NAME CONTEXT [docker build args...]
  local name=$1 context=$2; shift 2
  echo "== $name"
  docker build --build-arg BASE_IMAGE="$BASE_IMAGE" \
    --build-arg CODE_REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
    -t "$name" "$@" "$context"
}

for image in "${IMAGES[@]}"; do
  case $image in
    base) scripts/build_base_image.sh ;;
    redis) build ai-tutor/redis:7.0 deploy/docker/redis ;;
    postgres) build ai-tutor/postgres:15 deploy/docker/postgres ;;
    prometheus) build ai-tutor/prometheus:2.42 deploy/docker/prometheus ;;
    tutor)
      stage_build_extras
      build "ai-tutor-serve:$TAG" . "${TORCH_INDEX_ARG[@]}" ;;
    tutor-lite)
      stage_build_extras
      build "ai-tutor-serve:$TAG-lite" . -f deploy/docker/tutor-lite/Dockerfile ;;
    *) echo "unknown image: $image" >&2; exit 2 ;;
  esac
done
docker image ls --filter reference='ai-tutor*' --filter reference='ai-tutor/*'
