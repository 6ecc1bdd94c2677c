#!/usr/bin/env bash
# Benchmarks vegalake on large Parquet files.
#   scripts/bench.sh          charts and crossfilter updates (executors/benches/flights.rs)
#   scripts/bench.sh lake     a brushed histogram over a 100-partition lake, with and
#                             without pushdown (executors/benches/lake.rs)
#   scripts/bench.sh engines  one chart over 10M rows on local, Ballista and Spark
#                             (scripts/bench-engines.sh)
#   scripts/bench.sh python   Altair charts over 10M rows from Python, vegalake
#                             against VegaFusion (scripts/bench-python.sh)
#   scripts/bench.sh brush    the 3-view crossfilter's brush latency over 10M rows,
#                             against VegaFusion and DuckDB (scripts/bench-python.sh)
#   scripts/bench.sh workloads  W2 histogram, W3 stacked time units, W5 heatmap over 10M
#                             rows of Parquet, cold, from Python and from the CLI,
#                             against VegaFusion and DuckDB's SQL (scripts/bench-python.sh)
#   scripts/bench.sh warehouse  Altair charts over a 10M-row table in DuckDB, PostgreSQL
#                             and Spark Connect, against fetching it and VegaFusion
#                             (scripts/bench-python.sh)
#   scripts/bench.sh widget     the Jupyter widget's brush-to-redraw latency in JupyterLab
#                             and chromium at 1M and 10M rows, beside ChartState.update
#   scripts/bench.sh serve      `vegalake serve` under load: 32 sessions x 200 brush
#                             updates on a 1M-row crossfilter over gRPC, latency
#                             and peak RSS (scripts/bench-serve.sh)
#   scripts/bench.sh fuzz [SECONDS]  each fuzz target (spec, expression, chart, request)
#                             for SECONDS (default 1800) in release; kept inputs go to
#                             fuzz/corpus, crashes to fuzz/crashes (fuzz/src/lib.rs)
#   scripts/bench.sh batch      10,000 charts (one per store) over a 10M-row table with
#                             `vegalake batch`, locally and on Ballista, against a
#                             loop of one DuckDB query and one vl-convert per chart
#                             (scripts/bench-batch.sh)
# Installs the vega-datasets npm package (for flights-3m.parquet) if needed, builds in
# release mode (the first build takes a while) and prints median timings.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${1:-}" = engines ] && exec bash scripts/bench-engines.sh
[ "${1:-}" = batch ] && exec bash scripts/bench-batch.sh
[ "${1:-}" = serve ] && exec bash scripts/bench-serve.sh "${@:2}"
if [ "${1:-}" = fuzz ]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/vegalake-target}"
  cargo build --release --locked -p vegalake-fuzz
  # The four at once (their report lines at the end): 30 minutes each take 30
  # minutes, not two hours. Each input still has its own hang bound.
  pids=()
  for target in spec expression chart request; do
    "$CARGO_TARGET_DIR/release/vegalake-fuzz" "$target" --seconds "${2:-1800}" &
    pids+=($!)
  done
  status=0
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  exit "$status"
fi
[ "${1:-}" = python ] && exec bash scripts/bench-python.sh "${@:2}"
[ "${1:-}" = brush ] && exec bash scripts/bench-python.sh brush "${@:2}"
[ "${1:-}" = workloads ] && exec bash scripts/bench-python.sh workloads "${@:2}"
[ "${1:-}" = warehouse ] && exec bash scripts/bench-python.sh warehouse "${@:2}"
[ "${1:-}" = widget ] && exec bash scripts/bench-python.sh widget "${@:2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/vegalake-target}"
harness=integration-tests/harness
[ -d "$harness/node_modules/vega-datasets" ] || (cd "$harness" && npm install --no-audit --no-fund --loglevel=error)
cargo bench --locked -p vegalake-executors --bench "${1:-flights}"
