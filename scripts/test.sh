#!/usr/bin/env bash
# Runs every vegalake test: unit tests, doc tests, the CLI tests and the conformance
# suite against committed vega.js expectations. Needs only a Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
# Builds persist outside the clone so repeated runs (and CI) reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/vegalake-target}"
# --nocapture shows the conformance summary line ("conformance: N specs, ...").
cargo test --workspace --locked --no-fail-fast -- --nocapture
