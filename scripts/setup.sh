#!/usr/bin/env bash
# Prepares a checkout to run: npm packages (from the lockfile) and the compiled CLI.
# Idempotent: skips what is already current. Called by scripts/up.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[setup] %s\n' "$*" >&2; }

node_major=$(node -p 'process.versions.node.split(".")[0]')
if (( node_major < 20 )); then
  log "Node.js 20 or newer is required (found $(node --version))"; exit 1
fi

# better-sqlite3 compiles against the local Node headers when no prebuilt binary can be
# fetched (this machine has no route to GitHub); point node-gyp at them.
if [[ -f /usr/include/node/node.h ]]; then export npm_config_nodedir=/usr; fi

stamp=node_modules/.overcast-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || "$(cat "$stamp")" != "$want" ]]; then
  log "installing npm packages from package-lock.json"
  # `npm install --no-save` installs the lockfile's exact tree like `npm ci`, but tolerates
  # optional platform packages (rollup's other-OS builds) that the registry here lacks,
  # where `npm ci` refuses the whole lockfile.
  npm install --no-save --no-audit --no-fund
  echo "$want" > "$stamp"
else
  log "npm packages are current"
fi

log "compiling TypeScript (npm run build)"
rm -rf dist
npm run --silent build
