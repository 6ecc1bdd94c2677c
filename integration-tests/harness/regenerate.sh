#!/usr/bin/env bash
# Recomputes every expected output of the conformance suite with vega.js.
#   integration-tests/harness/regenerate.sh [NAME...]
# Needs Node; installs the pinned Vega packages first. Run after adding or changing a
# spec, then review and commit the changed files under integration-tests/expected/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$here"
[ -d node_modules/vega ] || npm ci --no-audit --no-fund --loglevel=error
mkdir -p "$root/expected"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in "$root"/specs/*.json; do b="$(basename "$f")"; names+=("${b%%.*}"); done
fi
failed=()
for name in "${names[@]}"; do
  spec=$(ls "$root"/specs/"$name".*json | head -n 1)
  if node expect.mjs "$spec" --data-dir "$root/datasets" > "$root/expected/$name.json.tmp" 2> "$root/expected/$name.err"; then
    mv "$root/expected/$name.json.tmp" "$root/expected/$name.json"
    rm -f "$root/expected/$name.err"
  else
    rm -f "$root/expected/$name.json.tmp"
    failed+=("$name")
  fi
done
echo "regenerated $(( ${#names[@]} - ${#failed[@]} )) expected outputs"
# The expression corpus follows the specs: vega's parse trees of every expression.
python3 "$root/expressions/collect.py"
node parse-corpus.mjs "$root/expressions/corpus.json" > "$root/expressions/expected.json"
if [ ${#failed[@]} -gt 0 ]; then
  echo "vega.js failed on: ${failed[*]} (see integration-tests/expected/NAME.err)" >&2
  exit 1
fi
