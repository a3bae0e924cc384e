#!/usr/bin/env bash
# Apply pending SQL migrations to $DATABASE_URL (forward only, one migrator at a time: an
# advisory lock). The way back is docs/DEPLOYMENT.md "Migrations": restore the dump taken
# before, or a new migration that undoes. `tutor deploy` runs this itself.
set -euo pipefail
source "$(dirname "$0")/tutor_cli.sh"
exec "$TUTOR" migrate "$@"
