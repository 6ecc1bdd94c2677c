#!/usr/bin/env bash
# Load benchmark of `vegalake serve` (issue 17): 32 sessions at once, each opening
# the 3-view crossfilter over a 1M-row Parquet file through the Rust client (gRPC,
# loopback) and sending 200 brushes, against a release server with a 512 MiB
# result cache and a 1 GiB query memory pool. Prints open and update latency
# (p50/p95/p99), throughput, cache hits, requests shed and retried, errors and the
# server's peak RSS (VmHWM), then stops the server. Run through scripts/bench.sh serve.
# ENCODING json (default) or arrow: how the answers' datasets travel.
#   scripts/bench.sh serve [SESSIONS] [UPDATES] [ROWS] [ENCODING]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/vegalake-target}"
sessions="${1:-32}" updates="${2:-200}" rows="${3:-1000000}" encoding="${4:-json}"
harness=integration-tests/harness
[ -d "$harness/node_modules/vega-datasets" ] || (cd "$harness" && npm ci --no-audit --no-fund --loglevel=error)
cargo build --release --locked -p vegalake -p vegalake-serve --bin vegalake --example load
bin="$CARGO_TARGET_DIR/release/vegalake"
load="$CARGO_TARGET_DIR/release/examples/load"
work="${VEGALAKE_BENCH_DIR:-/var/tmp/vegalake-bench}/serve"
mkdir -p "$work"
file="flights-$rows.parquet"
[ -f "$work/$file" ] || "$load" prepare "$harness/node_modules/vega-datasets/data/flights-3m.parquet" "$work/$file" "$rows"
token="bench-token-$RANDOM$RANDOM"
echo "$token" >"$work/tokens"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
# One evaluation per session may run at once; more would be shed (and retried).
listening serve --bind 127.0.0.1:0 --token-file "$work/tokens" --data-dir "$work" \
  --max-concurrent "$sessions" --max-charts-per-token "$sessions" --memory-limit 1G
"$load" run "$address" "$token" "$file" --sessions "$sessions" --updates "$updates" --encoding "$encoding" --server-pid "${pids[-1]}" --deadline 1800
