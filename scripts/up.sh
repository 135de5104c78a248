#!/usr/bin/env bash
# The all-in-one: sets the checkout up, then runs `overcast up` on the embedded defaults
# (SQLite and the in-process bus) with everything kept in ./.overcast. Extra arguments go
# to `overcast up` (see `bin/overcast up --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec bin/overcast up --data-dir "${OVERCAST_DATA_DIR:-.overcast}" "$@"
