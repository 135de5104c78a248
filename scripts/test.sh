#!/usr/bin/env bash
# The whole test suite: set-up, the local components (Debian packages, the Kubernetes
# control plane built from Go modules, all cached by version), lint, typecheck, then the
# unit and integration tiers against the real components.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "[test] installing local components (cached after the first run)" >&2
bin/overcast kit install

echo "[test] lint and format check (biome)" >&2
npx biome check .
echo "[test] typecheck (tsc)" >&2
npm run --silent typecheck

results=$(mktemp -d)/vitest.json
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
node scripts/summarize-tests.mjs "$results" || status=1
exit "$status"
