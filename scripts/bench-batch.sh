#!/usr/bin/env bash
# Benchmark: CHARTS (default 10,000) histograms, one per store, over a 10M-row
# Parquet table, each with its own bins (the batch tests' histogram template):
#   vegalake batch, local       one evaluation for all stores, then the renderer
#   vegalake batch, ballista    the same on a scheduler and 2 executors started here
#   the loop users write today  per store: a DuckDB query of its rows, then
#                               vl-convert-python drawing the Vega-Lite chart; run on
#                               SAMPLE stores (default 200) and scaled to CHARTS
# Prints, per method, the charts, the total seconds, charts per second, and for
# vegalake the query and render stages (from --progress jsonl). PNG at scale 1.
# Run through scripts/bench.sh batch.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/vegalake-target}"
charts="${CHARTS:-10000}"
sample="${SAMPLE:-200}"
work="${VEGALAKE_BENCH_DIR:-/var/tmp/vegalake-bench}/batch"
mkdir -p "$work"
if [ -z "${VEGALAKE_BIN:-}" ]; then
  cargo build --release --locked -p vegalake
fi
bin="${VEGALAKE_BIN:-$CARGO_TARGET_DIR/release/vegalake}"
python_tools
"$VEGALAKE_PYTHON" -c "import vl_convert" 2>/dev/null || "${VEGALAKE_PYTHON%/python}/pip" install --quiet --disable-pip-version-check vl-convert-python==1.9.0.post1

# 10M rows over $charts stores (deterministic), written once.
data="$work/stores_10m_${charts}.parquet"
if [ ! -f "$data" ]; then
  "$VEGALAKE_PYTHON" - "$data" "$charts" <<'PY'
import sys, duckdb
path, stores = sys.argv[1], int(sys.argv[2])
duckdb.sql(f"""
COPY (
  SELECT 's' || lpad(CAST((i * 7919) % {stores} AS VARCHAR), 5, '0') AS store,
         make_timestamp((1672531200000 + (i * 104729) % 63072000000) * 1000) AS date,
         ((i * 48271) % 100000) / 100.0 * (1 + ((i * 7919) % {stores}) % 5) - 200 AS value,
         CAST((i * 31) % 50 AS BIGINT) AS units
  FROM range(1, 10000001) t(i)
) TO '{path}' (FORMAT PARQUET)
""")
PY
fi
template="$work/histogram.vl.json"
sed "s|stores.parquet|file://$data|" integration-tests/batch/templates/histogram.vl.json >"$template"

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
start_vegalake_cluster

printf '%-28s %8s %10s %10s %10s %10s\n' "method" "charts" "total s" "charts/s" "query s" "render s"
for engine in local "ballista://$scheduler"; do
  out="$work/out-${engine%%:*}"
  rm -rf "$out"
  start=$(date +%s.%N)
  "$bin" batch --template "$template" --by store --allow-root "$work" --engine "$engine" --formats png \
    --out "$out" --progress jsonl 2>"$work/progress.jsonl"
  total="$(echo "$(date +%s.%N) - $start" | bc)"
  read -r query render < <("$VEGALAKE_PYTHON" - "$work/progress.jsonl" <<'PY'
import json, sys
done = {}
for line in open(sys.argv[1]):
    try:
        p = json.loads(line)
    except ValueError:
        continue
    if p.get("finished"):
        done[p["stage"]] = p["seconds"]
print(f"{done.get('query', 0):.1f} {done.get('render', 0):.1f}")
PY
)
  n="$(wc -l <"$out/manifest.jsonl")"
  failed="$(grep -c '"status":"failed"' "$out/manifest.jsonl" || true)"
  [ "$failed" = 0 ] || { echo "$engine: $failed charts failed" >&2; exit 1; }
  printf '%-28s %8s %10.1f %10.1f %10s %10s\n' "vegalake batch ${engine%%:*}" "$n" "$total" "$(echo "$n / $total" | bc -l)" "$query" "$render"
done

# The loop: one DuckDB query per store, then vl-convert per chart, on a sample.
"$VEGALAKE_PYTHON" - "$data" "$charts" "$sample" <<'PY'
import json, sys, time
import duckdb, vl_convert
path, charts, sample = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
stores = [f"s{i:05d}" for i in range(0, charts, max(1, charts // sample))][:sample]
template = {"$schema": "https://vega.github.io/schema/vega-lite/v6.json", "mark": "bar",
            "encoding": {"x": {"field": "value", "bin": {"maxbins": 10}, "type": "quantitative"},
                         "y": {"aggregate": "count", "type": "quantitative"}}}
con = duckdb.connect()
start = time.perf_counter()
query_s = 0.0
for store in stores:
    t = time.perf_counter()
    rows = con.execute(f"SELECT value FROM '{path}' WHERE store = ?", [store]).fetchall()
    query_s += time.perf_counter() - t
    spec = {**template, "data": {"values": [{"value": v} for (v,) in rows]}}
    vl_convert.vegalite_to_png(spec, scale=1)
elapsed = time.perf_counter() - start
per = elapsed / len(stores)
print(f"{'loop: duckdb + vl-convert':<28} {charts:>8} {per * charts:>10.1f} {1 / per:>10.1f} {query_s / len(stores) * charts:>10.1f} {(elapsed - query_s) / len(stores) * charts:>10.1f}"
      f"   (measured on {len(stores)} stores, scaled)")
PY
