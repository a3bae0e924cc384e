#!/usr/bin/env bash
# Check the live release: readiness, every shard and model node healthy and serving the
# release's versions, smoke questions with their sources and budgets, metrics. Exit 1 names
# what failed. The arguments are `tutor verify`'s (--url, --token, --smoke).
set -euo pipefail
source "$(dirname "$0")/tutor_cli.sh"
exec "$TUTOR" verify "$@"
