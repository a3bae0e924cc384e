#!/usr/bin/env bash
# Release the tutor: record it, migrate, `serve deploy`, wait until healthy, verify, and roll
# back automatically if it fails. The arguments are `tutor deploy`'s (--config, --env, ...);
# with none it releases serve_config.yaml with $ENVIRONMENT's overlay to the head `tutor up`
# started. Exit 1: the release failed (and says whether the previous one is live again).
set -euo pipefail
source "$(dirname "$0")/tutor_cli.sh"
exec "$TUTOR" deploy "$@"
