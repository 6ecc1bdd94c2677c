#!/usr/bin/env bash
# Benchmark: the same chart on each engine. A histogram of delays (extent, bin,
# aggregate) and a count and mean delay per month (timeunit, aggregate) over a
# 10M-row Parquet dataset partitioned by month, evaluated with `vegalake eval` on:
#   local      embedded DataFusion
#   ballista   a scheduler and 2 executors (vegalake's own, started here)
#   spark      a Spark Connect server (local[2], from the pyspark wheel, started here)
# Prints, per engine, the median wall time of RUNS evaluations (default 3; each a
# new process, so nothing is cached between runs) and what the engine sent back to
# vegalake: queries, rows and bytes (as Arrow IPC), from `--verbose`'s log.
# Run through scripts/bench.sh engines.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/vegalake-target}"
runs="${RUNS:-3}"
work="${VEGALAKE_BENCH_DIR:-/var/tmp/vegalake-bench}/engines"
mkdir -p "$work"
# VEGALAKE_BIN: a vegalake binary to use instead of building one in release mode.
if [ -z "${VEGALAKE_BIN:-}" ]; then
  cargo build --release --locked -p vegalake
fi
bin="${VEGALAKE_BIN:-$CARGO_TARGET_DIR/release/vegalake}"
python_tools

# 10M flights-like rows (the generator of executors/benches/flights.rs: dates over
# 2001, deterministic values), one hive partition per month, written once.
data="$work/flights_10m"
if [ ! -f "$data/.complete" ]; then
  rm -rf "$data"
  "$VEGALAKE_PYTHON" - "$data" <<'PY'
import sys, duckdb
duckdb.sql(f"""
COPY (
  SELECT make_timestamp((978307200000 + (i * 104729) % 31536000000) * 1000) AS date,
         CAST((i * 7919) % 181 AS BIGINT) - 30 AS delay,
         CAST(50 + (i * 6007) % 2950 AS BIGINT) AS distance,
         'A' || CAST((i * 31) % 97 AS VARCHAR) AS origin,
         'B' || CAST((i * 37) % 89 AS VARCHAR) AS destination,
         month(make_timestamp((978307200000 + (i * 104729) % 31536000000) * 1000)) AS month
  FROM range(1, 10000001) t(i)
) TO '{sys.argv[1]}' (FORMAT PARQUET, PARTITION_BY (month))
""")
PY
  touch "$data/.complete"
fi
url="parquet+file://$data/"
cat >"$work/chart.vg.json" <<JSON
{"data": [
  {"name": "delays", "url": "$url", "transform": [
    {"type": "extent", "field": "delay", "signal": "delay_extent"},
    {"type": "bin", "field": "delay", "extent": {"signal": "delay_extent"}, "maxbins": 20},
    {"type": "aggregate", "groupby": ["bin0", "bin1"]}]},
  {"name": "monthly", "url": "$url", "transform": [
    {"type": "timeunit", "field": "date", "units": ["year", "month"], "timezone": "utc", "as": ["month_start", "month_end"]},
    {"type": "aggregate", "groupby": ["month_start", "month_end"], "ops": ["count", "mean"], "fields": [null, "delay"]}]}
]}
JSON

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
start_vegalake_cluster
start_spark_connect
trap 'kill "${pids[@]}" 2>/dev/null || true; stop_spark_connect' EXIT

reference=""
printf '%-34s %10s %10s %10s %14s\n' "engine" "median s" "queries" "rows" "bytes back"
for engine in local "ballista://$scheduler" "spark://${VEGALAKE_SPARK_CONNECT#sc://}"; do
  times=()
  for _ in $(seq 1 "$runs"); do
    start=$(date +%s.%N)
    "$bin" eval "$work/chart.vg.json" --allow-root "$data" --engine "$engine" --verbose >"$work/out.json" 2>"$work/log.txt"
    times+=("$(echo "$(date +%s.%N) - $start" | bc)")
  done
  if grep -q "ran locally" "$work/log.txt"; then
    echo "$engine: some queries ran locally:" >&2
    grep "ran locally" "$work/log.txt" >&2
  fi
  median="$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p")"
  read -r queries rows bytes < <(awk '/ returned [0-9]+ rows, / {q++; r += $5; b += $7} END {print q+0, r+0, b+0}' "$work/log.txt")
  printf '%-34s %10.2f %10s %10s %14s\n' "$engine" "$median" "$queries" "$rows" "$bytes"
  # Every engine must give the same datasets.
  result="$("$VEGALAKE_PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1]))["datasets"]; print(json.dumps({k: sorted(map(json.dumps, v)) for k, v in d.items()}, sort_keys=True))' "$work/out.json" | md5sum)"
  if [ -z "$reference" ]; then reference="$result"; elif [ "$result" != "$reference" ]; then echo "$engine: datasets differ from the local engine's" >&2; exit 1; fi
done
