#!/usr/bin/env bash
# Recomputes the interaction suite's expected outputs with vega.js: for every spec
# under integration-tests/interactions, its datasets before and after each update.
#   integration-tests/harness/regenerate-interactions.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dir="$(dirname "$here")/interactions"
cd "$here"
[ -d node_modules/vega ] || npm ci --no-audit --no-fund --loglevel=error
mkdir -p "$dir/expected"
n=0
for spec in "$dir"/*.v[gl].json; do
  name="$(basename "$spec")"; name="${name%%.*}"
  node replay-expect.mjs "$spec" "$dir/$name.updates.json" --data-dir "$(dirname "$here")/datasets" > "$dir/expected/$name.json"
  n=$((n + 1))
done
echo "regenerated $n interaction expectations"
