#!/usr/bin/env bash
# Runs the test suite on another Node major (package.json claims node >= 20; CI tests 20 and 22): that Node comes
# from the npm registry's `node` package into .cache/node-<major>/, then vitest runs under it, so every `baton`
# process the tests spawn (process.execPath) runs on it too. The type check is Node-independent and is not repeated.
set -euo pipefail
major="${1:?usage: scripts/test-node.sh MAJOR [vitest args…]}"
shift
cd "$(dirname "$0")/.."
dir=".cache/node-$major"
bin="$dir/node_modules/node/bin/node"
if [ ! -x "$bin" ] || [ "$("$bin" -p 'process.versions.node.split(".")[0]')" != "$major" ]; then
  echo "fetching node@$major from the npm registry into $dir"
  rm -rf "$dir" && mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --no-save "node@$major" >/dev/null
  [ -x "$bin" ] || { echo "node@$major did not install a binary at $bin (its install script did not run?)"; exit 1; }
fi
bindir="$(cd "$(dirname "$bin")" && pwd)"
echo "running the tests on node $("$bin" --version)"
PATH="$bindir:$PATH" exec node node_modules/vitest/vitest.mjs run "$@"
