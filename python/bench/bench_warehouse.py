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

One run each, in this process (the warehouse's own caches warm after the load, as
in a notebook). Not a test: it prints a table for the closing notes.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_altair import CHARTS, chart, write_data  # noqa: E402

COLUMNS = ("date", "delay", "distance", "time")


def load_duckdb(parquet: Path) -> tuple[Any, Any, Any]:
    import duckdb

    con = duckdb.connect()
    con.execute(f"CREATE TABLE flights AS SELECT * FROM read_parquet('{parquet}')")
    import vegalake as vl

    return vl.sql(con, table="flights"), lambda: con.table("flights").df(), con


def load_postgres(parquet: Path) -> tuple[Any, Any, Any]:
    import pandas as pd
    import psycopg
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    conn = psycopg.connect(os.environ["VEGALAKE_POSTGRES_DSN"], autocommit=True)
    conn.execute("DROP TABLE IF EXISTS flights")
    conn.execute("CREATE TABLE flights (date TIMESTAMPTZ, delay DOUBLE PRECISION, distance DOUBLE PRECISION, time DOUBLE PRECISION)")
    table = pq.read_table(parquet)
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
    with conn.cursor() as cur, cur.copy("COPY flights FROM STDIN WITH (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())
    conn.execute("VACUUM ANALYZE flights")
    import vegalake as vl

    def fetch() -> Any:
        with conn.cursor() as cur:
            cur.execute("SELECT date, delay, distance, time FROM flights")
            return pd.DataFrame(cur.fetchall(), columns=list(COLUMNS))

    return vl.sql(conn, table="flights"), fetch, conn


def load_spark(parquet: Path) -> tuple[Any, Any, Any]:
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.remote(os.environ["VEGALAKE_SPARK_CONNECT"]).getOrCreate()
    frame = spark.read.parquet(str(parquet))
    frame.createOrReplaceTempView("flights")
    import vegalake as vl

    return vl.source(frame), frame.toPandas, spark


LOADERS = {"duckdb": load_duckdb, "postgres": load_postgres, "spark": load_spark}


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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", type=Path)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--warehouses", default="duckdb,postgres,spark")
    args = parser.parse_args()
    args.directory.mkdir(parents=True, exist_ok=True)
    write_data(args.directory, args.rows)
    parquet = args.directory / "flights.parquet"
    import vegalake as vl

    vl.enable()
    print(f"{args.rows:,} rows; one run each; vegalake: to_vega over the warehouse table; baseline: fetch + VegaFusion")
    print(f"{'warehouse':<10} {'chart':<12} {'vegalake s':>10} {'baseline s':>11} {'ratio':>6} {'vegalake B':>11} {'queries':>8} {'baseline B':>14}")
    for warehouse in args.warehouses.split(","):
        start = time.perf_counter()
        source, fetch, _keep = LOADERS[warehouse](parquet)
        print(f"{warehouse}: loaded in {time.perf_counter() - start:.1f} s")
        for name in CHARTS:
            vl_s, vl_b, queries = vegalake_case(source, name)
            try:
                base_s, base_b = baseline_case(fetch, name)
                base = f"{base_s:>11.2f} {vl_s / base_s:>6.2f}"
            except MemoryError:
                base_s, base_b, base = None, 0, f"{'OOM':>11} {'-':>6}"
            print(f"{warehouse:<10} {name:<12} {vl_s:>10.2f} {base} {vl_b:>11,} {queries:>8} {base_b:>14,}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    sys.exit(main())
