# Shared by scripts/test.sh and scripts/bench.sh (sourced, not run).

tools="${VEGALAKE_TOOLS:-/var/tmp/vegalake-tools}"

# protoc (Debian's protobuf-compiler), for builds with the Spark engine (its
# protocol is compiled at build time) and the check of vegalake.v1's generated code.
protoc_tool() {
  if ! command -v protoc >/dev/null; then
    apt-get update -qq && apt-get install -y -qq protobuf-compiler >/dev/null
  fi
}

# DuckDB, Spark and a PostgreSQL client: the Python packages duckdb, pyspark and
# psycopg, in a venv outside the clone (Spark runs on the machine's Java 17).
# Sets VEGALAKE_PYTHON.
python_tools() {
  if [ ! -x "$tools/py/bin/python" ] || ! "$tools/py/bin/python" -c "import duckdb, pyspark, psycopg" 2>/dev/null; then
    python3 -m venv "$tools/py"
    "$tools/py/bin/pip" install --quiet --disable-pip-version-check duckdb==2.0.0 pyspark==4.0.1 "psycopg[binary]==3.3.9"
  fi
  export VEGALAKE_PYTHON="$tools/py/bin/python"
}

# A Spark Connect server (the pyspark wheel's jars, local[2]) on a free loopback
# port, stopped when the calling script exits. Sets VEGALAKE_SPARK_CONNECT and
# VEGALAKE_SPARK_UI.
start_spark_connect() {
  local spark_home spark_port spark_ui_port
  spark_home="$("$VEGALAKE_PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')"
  spark_port="$("$VEGALAKE_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  spark_ui_port="$("$VEGALAKE_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  spark_log="$(mktemp -t vegalake-spark-connect.XXXXXX.log)"
  spark_dir="$(mktemp -d -t vegalake-spark.XXXXXX)"
  # Spark writes its warehouse and metastore into the working directory.
  (cd "$spark_dir" && exec "$spark_home/bin/spark-submit" --class org.apache.spark.sql.connect.service.SparkConnectServer \
    --name vegalake --master 'local[2]' --driver-memory "${VEGALAKE_SPARK_DRIVER_MEMORY:-1g}" \
    --conf spark.connect.grpc.binding.address=127.0.0.1 --conf spark.connect.grpc.binding.port="$spark_port" \
    --conf spark.ui.port="$spark_ui_port" --conf spark.driver.bindAddress=127.0.0.1 --conf spark.driver.host=127.0.0.1 \
    --conf spark.sql.ui.retainedExecutions=100000 \
    --conf spark.sql.shuffle.partitions=2 >"$spark_log" 2>&1) &
  spark_pid=$!
  trap stop_spark_connect EXIT
  for _ in $(seq 1 120); do
    grep -q "Spark Connect server started" "$spark_log" && break
    kill -0 $spark_pid 2>/dev/null || { cat "$spark_log"; echo "the Spark Connect server did not start" >&2; exit 1; }
    sleep 1
  done
  grep -q "Spark Connect server started" "$spark_log" || { tail -20 "$spark_log"; echo "the Spark Connect server did not start within 120 s" >&2; exit 1; }
  export VEGALAKE_SPARK_CONNECT="sc://127.0.0.1:$spark_port"
  # The server's own log of each SQL execution and the rows its plan's nodes
  # output (the UI's REST API, on loopback): the Python suite reads it.
  export VEGALAKE_SPARK_UI="http://127.0.0.1:$spark_ui_port"
}

stop_spark_connect() {
  kill "$spark_pid" 2>/dev/null || true
  wait "$spark_pid" 2>/dev/null || true
  rm -rf "$spark_dir" "$spark_log"
}

# A PostgreSQL server from Debian's packages (installed here when missing): a
# cluster initialised in a temporary directory, run as the unprivileged postgres
# user (PostgreSQL refuses root) on a free loopback port, with pg_stat_statements
# (the tests read what each statement returned from it). Stopped by
# stop_postgres. Sets VEGALAKE_POSTGRES_DSN.
start_postgres() {
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
    apt-get update -qq && apt-get install -y -qq postgresql postgresql-contrib >/dev/null
    bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  fi
  pg_dir="$(mktemp -d -t vegalake-postgres.XXXXXX)"
  chown postgres "$pg_dir"
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  runuser -u postgres -- "$bin/initdb" -D "$pg_dir/data" -A trust -U postgres --no-sync >/dev/null
  runuser -u postgres -- "$bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/log" -w -s start \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$pg_dir -c fsync=off -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
  pg_ctl_bin="$bin/pg_ctl"
  export VEGALAKE_POSTGRES_DSN="host=127.0.0.1 port=$port user=postgres dbname=postgres"
}

stop_postgres() {
  if [ -n "${pg_dir:-}" ]; then
    runuser -u postgres -- "$pg_ctl_bin" -D "$pg_dir/data" -m fast -w -s stop 2>/dev/null || true
    rm -rf "$pg_dir"
  fi
}

# maturin (PyPI), in the tools venv. Sets MATURIN.
maturin_tool() {
  if [ ! -x "$tools/build/bin/maturin" ]; then
    python3 -m venv "$tools/build"
    "$tools/build/bin/pip" install --quiet --disable-pip-version-check maturin==1.16.0
  fi
  export MATURIN="$tools/build/bin/maturin"
}

# A vegalake scheduler and 2 executors (the binary $bin) on loopback, in the
# background of the calling shell: their pids go to `pids` (the caller's exit trap
# kills them) and the scheduler's HOST:PORT to `scheduler`.
start_vegalake_cluster() {
  listening scheduler --bind 127.0.0.1:0
  scheduler="$address"
  local scheduler_out="$listening_out" i
  for i in 1 2; do
    listening executor --scheduler "$scheduler" --slots 2 --work-dir "$(mktemp -d)"
  done
  # The scheduler prints "executors: N (ID joined)" as each registers.
  wait_for_line "$scheduler_out" "^executors: 2 " "the executors did not register with the scheduler"
}

# Starts `$bin ARGS` in the background (pid kept in `pids`, output in
# `listening_out`) and sets `address` to the address it prints once it listens.
listening() {
  listening_out="$(mktemp)"
  "$bin" "$@" >"$listening_out" 2>/dev/null &
  pids+=($!)
  wait_for_line "$listening_out" "^listening on " "vegalake $* did not start"
  address="$(sed -n 's/^listening on //p' "$listening_out")"
}

# Waits (up to 60 s) for a line matching PATTERN in FILE, or exits saying WHAT.
wait_for_line() {
  for _ in $(seq 1 600); do
    grep -q "$2" "$1" && return
    sleep 0.1
  done
  echo "$3" >&2
  exit 1
}
