#!/usr/bin/env bash
# Runs every vegalake test: unit tests, doc tests, the CLI tests, the conformance
# suite against committed vega.js expectations, the tests that run vegalake's
# client specs in vega.js (the Node harness, installed here from the lockfile), and
# the lake tests (Parquet and Delta on local disk and on an S3 server on loopback),
# and the SQL tests (generated SQL run on DuckDB and on a local Spark).
# Needs a Rust toolchain and Node (npm reaches the registry on first run).
set -euo pipefail
cd "$(dirname "$0")/.."
# Builds persist outside the clone so repeated runs (and CI) reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/vegalake-target}"
harness=integration-tests/harness
if ! (cd "$harness" && npm ls --depth=0 >/dev/null 2>&1); then
  (cd "$harness" && npm ci --no-audit --no-fund --loglevel=error)
fi
# The S3-compatible server of the lake tests (s3s-fs, from crates.io; 0.14 is the
# last release that builds with Rust 1.95), installed once outside the clone.
tools="${VEGALAKE_TOOLS:-/var/tmp/vegalake-tools}"
if [ ! -x "$tools/bin/s3s-fs" ]; then
  cargo install s3s-fs --version 0.14.1 --features binary --locked --root "$tools"
fi
export VEGALAKE_S3S_FS="$tools/bin/s3s-fs"
# DuckDB and Spark (the Python packages duckdb and pyspark, in a venv outside the
# clone; Spark runs on the machine's Java 17) run the SQL tests' generated SQL.
if [ ! -x "$tools/py/bin/python" ] || ! "$tools/py/bin/python" -c "import duckdb, pyspark" 2>/dev/null; then
  python3 -m venv "$tools/py"
  "$tools/py/bin/pip" install --quiet --disable-pip-version-check duckdb==2.0.0 pyspark==4.0.1
fi
export VEGALAKE_PYTHON="$tools/py/bin/python"
# --nocapture shows the suites' summary lines ("conformance: N specs, ...").
cargo test --workspace --locked --no-fail-fast -- --nocapture
