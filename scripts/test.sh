#!/usr/bin/env bash
# Runs every vegalake test: unit tests, doc tests, the CLI tests, the conformance
# suite against committed vega.js expectations, the tests that run vegalake's
# client specs in vega.js (the Node harness, installed here from the lockfile), the
# Python package's suite, the browser client's tests and its widget in JupyterLab, and
# the lake tests (Parquet and Delta on local disk and on an S3 server on loopback),
# the SQL tests (generated SQL run on DuckDB and on a local Spark), and the engine
# tests (the conformance suite on a Ballista cluster the tests start, and on a Spark
# Connect server started here).
# Fails first on an unformatted file, a clippy warning or a broken doc link.
# Needs a Rust toolchain, Node, Java 17 and protoc (installed here with apt-get when
# missing: the Spark engine's protocol is compiled at build time), and the
# Liberation fonts and poppler-utils (installed here too) for the renderer.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
# Formatting first: a slip fails in seconds, not after the suites.
cargo fmt --all --check
# Builds persist outside the clone so repeated runs (and CI) reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/vegalake-target}"
protoc_tool
# The renderer draws text in the Liberation fonts (vl-convert's), and its tests
# rasterise its PDFs with poppler's pdftoppm: Debian's packages, when missing.
if [ ! -d /usr/share/fonts/truetype/liberation ] || ! command -v pdftoppm >/dev/null; then
  apt-get update -qq && apt-get install -y -qq fonts-liberation poppler-utils >/dev/null
fi
# The service's TLS test makes its certificate with openssl and calls it with curl.
if ! command -v openssl >/dev/null || ! command -v curl >/dev/null; then
  apt-get update -qq && apt-get install -y -qq openssl curl >/dev/null
fi
# The browser client's packages and bundle (the renderer embeds its vega, the
# server its bundle): installed and built once, before any build script asks.
if ! (cd client && npm ls --depth=0 >/dev/null 2>&1); then
  (cd client && npm ci --no-audit --no-fund --loglevel=error)
fi
(cd client && npm run --silent build)
harness=integration-tests/harness
if ! (cd "$harness" && npm ls --depth=0 >/dev/null 2>&1); then
  (cd "$harness" && npm ci --no-audit --no-fund --loglevel=error)
fi
# The S3-compatible server of the lake tests (s3s-fs, from crates.io; 0.14 is the
# last release that builds with Rust 1.95), installed once outside the clone.
if [ ! -x "$tools/bin/s3s-fs" ]; then
  cargo install s3s-fs --version 0.14.1 --features binary --locked --root "$tools"
fi
export VEGALAKE_S3S_FS="$tools/bin/s3s-fs"
# Clippy on every crate, test, bench and feature, its warnings as errors (before
# the servers start: a lint fails the run in minutes).
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
# The API docs build without a broken or private link ([workspace.lints.rustdoc]).
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps --locked --quiet
# DuckDB, Spark and PostgreSQL run the SQL tests' generated SQL; a Spark Connect
# server runs vegalake's queries on Spark from Rust, and it and the PostgreSQL
# server hold the Python suite's warehouse tables (one of each per run, stopped
# on exit).
python_tools
start_spark_connect
start_postgres
# The tests' temporary files (tables, specs, cluster work directories) go under one
# directory, removed when the run ends.
export TMPDIR="$(mktemp -d -t vegalake-test.XXXXXX)"
trap 'stop_spark_connect; stop_postgres; rm -rf "$TMPDIR"' EXIT
# --nocapture shows the suites' summary lines ("conformance: N specs, ...").
# The Python extension links no libpython: Python tests it (below).
cargo test --workspace --exclude vegalake-python --all-features --locked --no-fail-fast -- --nocapture
# The Python package: its wheel (the dev profile shares the crates built above),
# installed into a fresh venv per Altair version, and its suite against vega.js.
wheel="$(bash scripts/python.sh --dev)"
# The notebooks: the cluster one starts the CLI's scheduler and executors; the
# crossfilter one runs on 1M rows (10M in a debug build is minutes; the bench
# runs the release build at 10M).
export VEGALAKE_BIN="$CARGO_TARGET_DIR/debug/vegalake" VEGALAKE_NOTEBOOK_ROWS=1000000
for altair in 6.3.0 5.5.0; do
  venv="$TMPDIR/py-altair-$altair"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$wheel[altair]" "altair==$altair" \
    vl-convert-python==1.9.0.post1 pillow==13.0.0 pytest==9.2.0 pandas==3.1.1 polars==2.1.0 numpy deltalake==1.6.6 \
    nbclient==0.11.0 nbformat ipykernel==7.4.0 anywidget==0.11.0 \
    duckdb==2.0.0 "psycopg[binary]==3.3.9" sqlalchemy==2.1.9 pyspark-client==4.0.1
  if [ "$altair" = 6.3.0 ]; then
    # The Python sources follow ruff's lint and format (python/pyproject.toml).
    "$venv/bin/pip" install --quiet --disable-pip-version-check ruff==0.17.6
    "$venv/bin/ruff" check python && "$venv/bin/ruff" format --check python
  fi
  echo "python suite with altair $altair"
  "$venv/bin/python" -m pytest python/tests -q -p no:cacheprovider
done
# The browser client (client/): its message logic and a replay against vega.js in
# Node; then, in Debian's chromium (installed when missing) driven by
# playwright-core, its bundle in a plain page and the widget end to end in
# JupyterLab (from PyPI). The screenshot is kept in
# $CARGO_TARGET_DIR/test-artifacts.
if ! command -v chromium >/dev/null; then
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
(cd client && npm test)
"$TMPDIR/py-altair-6.3.0/bin/pip" install --quiet --disable-pip-version-check jupyterlab==4.6.6
VEGALAKE_JUPYTER="$TMPDIR/py-altair-6.3.0/bin/jupyter" VEGALAKE_ARTIFACTS="$CARGO_TARGET_DIR/test-artifacts" \
  node --test client/e2e/
