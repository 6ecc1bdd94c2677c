#!/usr/bin/env bash
# Altair charts over 10M rows (pandas, Parquet, Delta): vegalake's release wheel
# against VegaFusion 2.0.3's transformer, in one run (python/bench/bench_altair.py);
# with "brush", the 3-view crossfilter's open time and brush latency against
# VegaFusion's chart state and DuckDB's SQL (python/bench/bench_brush.py); with
# "warehouse", the charts over the table in DuckDB, PostgreSQL and Spark Connect
# (servers started here, stopped on exit) against fetching it and VegaFusion
# (python/bench/bench_warehouse.py); with "workloads", the static workloads W2, W3
# and W5 over Parquet against VegaFusion and DuckDB's hand SQL, cold, from Python
# and from the CLI (python/bench/bench_workloads.py).
#   scripts/bench.sh python [ROWS]
#   scripts/bench.sh workloads [ROWS]
#   scripts/bench.sh brush [ROWS]
#   scripts/bench.sh warehouse [ROWS]    (VEGALAKE_WAREHOUSES=duckdb,postgres,spark: which)
#   scripts/bench.sh widget [ROWS...]    (default 1M and 10M)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/vegalake-target}"
wheel="$(bash scripts/python.sh)"
venv="$tools/bench-py"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$wheel"
# vl-convert-python: VegaFusion reads the local time zone from it (and fails
# without it); vegalake compiles Vega-Lite itself.
"$venv/bin/pip" install --quiet --disable-pip-version-check "$wheel[altair]" vegafusion==2.0.3 \
  pandas==3.1.1 deltalake==1.6.6 numpy duckdb==1.4.1 vl-convert-python==1.9.0.post1
# Bytecode as pip leaves it on a usual machine. Where PYTHONDONTWRITEBYTECODE is
# set (this sandbox sets it), most modules stay uncompiled and every cold process
# compiles Altair, pandas and the others again: `import altair, vegalake` took
# 0.62-0.72 s, 0.43-0.51 s with bytecode (measured). For every system alike. Some
# packages ship files that do not compile (test data): those are skipped.
"$venv/bin/python" -m compileall -q -j 0 "$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null || :
mode=charts
case "${1:-}" in brush | workloads | warehouse | widget) mode="$1"; shift ;; esac
rows="${1:-10000000}"
data="$tools/bench-data/python-$rows"
if [ "$mode" = widget ]; then
  # The widget in JupyterLab and chromium: brush-to-redraw latency at 1M and 10M rows
  # (or the sizes given), beside ChartState.update alone.
  "$venv/bin/pip" install --quiet --disable-pip-version-check "$wheel[widget]" jupyterlab==4.6.6 anywidget==0.11.0 \
    vl-convert-python==1.9.0.post1 altair==6.3.0
  command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
  sizes=("$@")
  [ ${#sizes[@]} -gt 0 ] || sizes=(1000000 10000000)
  VEGALAKE_JUPYTER="$venv/bin/jupyter" node client/e2e/bench.js "${sizes[@]}"
elif [ "$mode" = brush ]; then
  "$venv/bin/python" python/bench/bench_brush.py "$data" --rows "$rows"
elif [ "$mode" = workloads ]; then
  # The CLI beside the package: the same engine without Python's imports.
  cargo build --release --locked -p vegalake
  "$venv/bin/python" python/bench/bench_workloads.py "$tools/bench-data" --rows "$rows" --cli "$CARGO_TARGET_DIR/release/vegalake"
elif [ "$mode" = warehouse ]; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check "psycopg[binary]==3.3.9" pyspark-client==4.0.1
  python_tools
  # The baseline's toPandas() of 10M rows ran the server's default 1 GB heap out
  # (java.lang.OutOfMemoryError, then the JVM exits), and the next case's client
  # waited on a dead server.
  export VEGALAKE_SPARK_DRIVER_MEMORY=8g
  start_spark_connect
  start_postgres
  trap 'stop_spark_connect; stop_postgres' EXIT
  "$venv/bin/python" python/bench/bench_warehouse.py "$data" --rows "$rows" ${VEGALAKE_WAREHOUSES:+--warehouses "$VEGALAKE_WAREHOUSES"}
else
  "$venv/bin/python" python/bench/bench_altair.py "$data" --rows "$rows"
fi
