"""Altair charts over a warehouse table: vegalake's SQL through the user's
connection, against fetching the table and running VegaFusion, side by side.

    python bench_warehouse.py DIR [--rows N] [--warehouses duckdb,postgres,spark]

Loads the flights-like table of bench_altair.py (N rows, default 10M; written to
DIR once) into each warehouse: DuckDB (in process), PostgreSQL
($VEGALAKE_POSTGRES_DSN) and Spark Connect ($VEGALAKE_SPARK_CONNECT, reading the
Parquet file itself). Then, per chart (histogram, timeunit, 3-view crossfilter):

- vegalake: ``alt.Chart(source)`` over the warehouse table, ``vl.to_vega`` on a
  fresh runtime; the seconds, and the bytes (Arrow) the warehouse returned;
- the baseline users write today: the table fetched whole (``toPandas()``,
  ``.df()``, a cursor into pandas), then VegaFusion 2.0.3's transformer; the
  seconds (fetch included), and the bytes fetched (the frame's memory).

One run each, each case in a process of its own (a baseline that runs out of
memory fails its case, not the run); the warehouse stays loaded between them.
Not a test: it prints a table for the closing notes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_altair import CHARTS, chart, write_data  # noqa: E402

COLUMNS = ("date", "delay", "distance", "time")


def load(warehouse: str, directory: Path) -> None:
    """Loads the table into the warehouse (once per run)."""
    parquet = directory / "flights.parquet"
    if warehouse == "duckdb":
        import duckdb

        path = directory / "flights.duckdb"
        if not path.exists():
            con = duckdb.connect(str(path))
            con.execute(f"CREATE TABLE flights AS SELECT * FROM read_parquet('{parquet}')")
            con.close()
    elif warehouse == "postgres":
        import psycopg
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        with psycopg.connect(os.environ["VEGALAKE_POSTGRES_DSN"], autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS flights")
            conn.execute("CREATE TABLE flights (date TIMESTAMPTZ, delay DOUBLE PRECISION, distance DOUBLE PRECISION, time DOUBLE PRECISION)")
            buffer = io.BytesIO()
            pacsv.write_csv(pq.read_table(parquet), buffer, pacsv.WriteOptions(include_header=False))
            with conn.cursor() as cur, cur.copy("COPY flights FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(buffer.getvalue())
            conn.execute("VACUUM ANALYZE flights")
    # Spark reads the Parquet file itself, in each process's session.


def open_source(warehouse: str, directory: Path) -> tuple[Any, Any, Any]:
    """The table as vegalake's source, how the baseline fetches it, and what
    keeps the connection open."""
    import pandas as pd

    import vegalake as vl

    if warehouse == "duckdb":
        import duckdb

        con = duckdb.connect(str(directory / "flights.duckdb"), read_only=True)
        return vl.sql(con, table="flights"), lambda: con.table("flights").df(), con
    if warehouse == "postgres":
        import psycopg

        conn = psycopg.connect(os.environ["VEGALAKE_POSTGRES_DSN"], autocommit=True)

        def fetch() -> Any:
            with conn.cursor() as cur:
                cur.execute("SELECT date, delay, distance, time FROM flights")
                return pd.DataFrame(cur.fetchall(), columns=list(COLUMNS))

        return vl.sql(conn, table="flights"), fetch, conn
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.remote(os.environ["VEGALAKE_SPARK_CONNECT"]).getOrCreate()
    frame = spark.read.parquet(str(directory / "flights.parquet"))
    return vl.source(frame), frame.toPandas, spark


class Counter:
    """Bytes (Arrow) a connection's queries returned."""

    def __init__(self, connection: Any) -> None:
        self.bytes = 0
        self.queries = 0
        query = connection.query

        def counted(sql: str) -> Any:
            result = query(sql)
            self.bytes += result.nbytes
            self.queries += 1
            return result

        connection.query = counted


def vegalake_case(source: Any, name: str) -> tuple[float, int, int]:
    import vegalake as vl
    from vegalake import _altair, _warehouse

    counter = Counter(_warehouse.table_of_proxy(source).connection)
    _altair.settings.runtime = vl.Runtime()
    start = time.perf_counter()
    vl.to_vega(chart(name, source))
    seconds = time.perf_counter() - start
    connection = _warehouse.table_of_proxy(source).connection
    del connection.query  # back to the class's method
    return seconds, counter.bytes, counter.queries


def baseline_case(fetch: Any, name: str) -> tuple[float, int]:
    import altair as alt

    start = time.perf_counter()
    frame = fetch()
    with alt.data_transformers.enable("vegafusion"):
        chart(name, frame).to_dict(format="vega")
    return time.perf_counter() - start, int(frame.memory_usage(deep=True).sum())


def run_one(warehouse: str, system: str, name: str, directory: Path) -> dict:
    """One case, in this process."""
    import vegalake as vl

    vl.enable()
    source, fetch, _keep = open_source(warehouse, directory)
    if system == "vegalake":
        seconds, returned, queries = vegalake_case(source, name)
        return {"seconds": seconds, "bytes": returned, "queries": queries}
    seconds, fetched = baseline_case(fetch, name)
    return {"seconds": seconds, "bytes": fetched}


def measure(warehouse: str, system: str, name: str, directory: Path) -> dict | str:
    """One case in a process of its own: its figures, or why it failed."""
    out = subprocess.run([sys.executable, __file__, str(directory), "--one", warehouse, system, name], capture_output=True, text=True)
    if out.returncode in (-9, 137):
        return "killed (out of memory)"
    if out.returncode != 0:
        lines = [line for line in out.stderr.strip().splitlines() if not line.startswith(" ")]
        return (lines or ["no output"])[-1][:160]
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", type=Path)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--warehouses", default="duckdb,postgres,spark")
    parser.add_argument("--one", nargs=3, metavar=("WAREHOUSE", "SYSTEM", "CHART"))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(*args.one, args.directory)))
        return 0
    args.directory.mkdir(parents=True, exist_ok=True)
    write_data(args.directory, args.rows)
    print(f"{args.rows:,} rows; one run each; vegalake: to_vega over the warehouse table; baseline: fetch + VegaFusion")
    print(f"{'warehouse':<10} {'chart':<12} {'vegalake s':>10} {'baseline s':>11} {'ratio':>6} {'vegalake B':>11} {'queries':>8} {'baseline B':>14}")
    status = 0
    for warehouse in args.warehouses.split(","):
        start = time.perf_counter()
        load(warehouse, args.directory)
        print(f"{warehouse}: loaded in {time.perf_counter() - start:.1f} s")
        for name in CHARTS:
            ours, base = measure(warehouse, "vegalake", name, args.directory), measure(warehouse, "baseline", name, args.directory)
            if isinstance(ours, str):
                print(f"{warehouse:<10} {name:<12} vegalake failed: {ours}")
                status = 1
                continue
            if isinstance(base, str):
                cells = f"{'-':>11} {'-':>6}"
                note = f"  (baseline: {base})"
                base_b = "-"
            else:
                cells = f"{base['seconds']:>11.2f} {ours['seconds'] / base['seconds']:>6.2f}"
                note = ""
                base_b = f"{base['bytes']:,}"
            print(f"{warehouse:<10} {name:<12} {ours['seconds']:>10.2f} {cells} {ours['bytes']:>11,} {ours['queries']:>8} {base_b:>14}{note}")
    return status


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    sys.exit(main())
