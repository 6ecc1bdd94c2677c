#!/usr/bin/env bash
# Runs every vegalake test: unit tests, doc tests, the CLI tests, the conformance
# suite against committed vega.js expectations, and the tests that run vegalake's
# client specs in vega.js (the Node harness, installed here from the lockfile).
# Needs a Rust toolchain and Node (npm reaches the registry on first run).
set -euo pipefail
cd "$(dirname "$0")/.."
# Builds persist outside the clone so repeated runs (and CI) reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/vegalake-target}"
harness=integration-tests/harness
if ! (cd "$harness" && npm ls --depth=0 >/dev/null 2>&1); then
  (cd "$harness" && npm ci --no-audit --no-fund --loglevel=error)
fi
# --nocapture shows the suites' summary lines ("conformance: N specs, ...").
cargo test --workspace --locked --no-fail-fast -- --nocapture
