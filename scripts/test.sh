#!/usr/bin/env bash
# Runs every vegalake test: unit tests, doc tests, the CLI tests, the conformance
# suite against committed vega.js expectations, the tests that run vegalake's
# client specs in vega.js (the Node harness, installed here from the lockfile), and
# the lake tests (Parquet and Delta on local disk and on an S3 server on loopback),
# the SQL tests (generated SQL run on DuckDB and on a local Spark), and the engine
# tests (the conformance suite on a Ballista cluster the tests start, and on a Spark
# Connect server started here).
# Needs a Rust toolchain, Node, Java 17 and protoc (installed here with apt-get when
# missing: the Spark Connect client's protocol is compiled at build time).
set -euo pipefail
cd "$(dirname "$0")/.."
# Builds persist outside the clone so repeated runs (and CI) reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/vegalake-target}"
if ! command -v protoc >/dev/null; then
  apt-get update -qq && apt-get install -y -qq protobuf-compiler >/dev/null
fi
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
# A Spark Connect server (the pyspark wheel's jars, local[2]) for the tests that run
# vegalake's queries on Spark from Rust; one per run, stopped on exit.
spark_home="$("$VEGALAKE_PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')"
spark_port="$("$VEGALAKE_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
spark_log="$(mktemp -t vegalake-spark-connect.XXXXXX.log)"
"$spark_home/bin/spark-submit" --class org.apache.spark.sql.connect.service.SparkConnectServer \
  --name vegalake-tests --master 'local[2]' \
  --conf spark.connect.grpc.binding.address=127.0.0.1 --conf spark.connect.grpc.binding.port="$spark_port" \
  --conf spark.ui.enabled=false --conf spark.sql.shuffle.partitions=2 >"$spark_log" 2>&1 &
spark_pid=$!
trap 'kill $spark_pid 2>/dev/null || true; wait $spark_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  grep -q "Spark Connect server started" "$spark_log" && break
  kill -0 $spark_pid 2>/dev/null || { cat "$spark_log"; echo "the Spark Connect server did not start" >&2; exit 1; }
  sleep 1
done
grep -q "Spark Connect server started" "$spark_log" || { tail -20 "$spark_log"; echo "the Spark Connect server did not start within 120 s" >&2; exit 1; }
export VEGALAKE_SPARK_CONNECT="sc://127.0.0.1:$spark_port"
# --nocapture shows the suites' summary lines ("conformance: N specs, ...").
cargo test --workspace --locked --no-fail-fast -- --nocapture
