#!/usr/bin/env bash
# Go back to an earlier release: `tutor rollback` (--to RELEASE; default the one before the
# live release), recorded as a new release and verified. `tutor releases` lists the ids.
set -euo pipefail
source "$(dirname "$0")/tutor_cli.sh"
exec "$TUTOR" rollback "$@"
