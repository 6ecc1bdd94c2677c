"""Runs SQL tasks on DuckDB, Spark or PostgreSQL (the Python packages duckdb,
pyspark and psycopg) and prints their rows as JSON.

    python3 sql_run.py duckdb|spark|postgres TASKS.json

Spark runs in one local session (local[2]); each task's setup sets what our SQL
assumes (UTC, ANSI mode off, partition values as text). PostgreSQL is the server
at $VEGALAKE_POSTGRES_DSN (scripts/lib.sh starts one); each task runs in a
transaction of its own, rolled back after, with the session in UTC.

TASKS.json: [{"id": ..., "setup": [statement, ...], "sql": query}, ...]. Prints
{id: {"rows": [{column: value}]} | {"error": "..."}} with dates as epoch
milliseconds and NaN/Infinity as the strings vegalake's contract uses; the
__vl_row column (input order) is dropped.
"""
import datetime
import json
import math
import sys
import tempfile


def cell(v):
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return v.timestamp() * 1000.0
    if isinstance(v, datetime.date):
        return datetime.datetime(v.year, v.month, v.day, tzinfo=datetime.timezone.utc).timestamp() * 1000.0
    if hasattr(v, "__float__") and not isinstance(v, (bool, int)):
        return float(v)
    return v


def run_duckdb(task):
    import duckdb

    con = duckdb.connect()
    try:
        for statement in task["setup"]:
            con.execute(statement)
        cur = con.execute(task["sql"])
        names = [d[0] for d in cur.description]
        return [{n: cell(v) for n, v in zip(names, row) if n != "__vl_row"} for row in cur.fetchall()]
    finally:
        con.close()


def spark_session():
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .appName("vegalake-sql-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        # Not the working directory: Spark would leave a spark-warehouse/ there.
        .config("spark.sql.warehouse.dir", tempfile.mkdtemp(prefix="vegalake-spark-warehouse-"))
        .getOrCreate()
    )


def run_spark(spark, task):
    for statement in task["setup"]:
        spark.sql(statement)
    df = spark.sql(task["sql"])
    names = df.columns
    return [{n: cell(v) for n, v in zip(names, row) if n != "__vl_row"} for row in df.collect()]


def postgres_connection():
    import os

    import psycopg

    dsn = os.environ.get("VEGALAKE_POSTGRES_DSN")
    if not dsn:
        sys.exit("sql_run.py postgres: VEGALAKE_POSTGRES_DSN is not set (scripts/test.sh starts a server)")
    return psycopg.connect(dsn)


def run_postgres(conn, task):
    try:
        with conn.cursor() as cur:
            cur.execute("SET LOCAL TIME ZONE 'UTC'")
            for statement in task["setup"]:
                cur.execute(statement)
            cur.execute(task["sql"])
            names = [d.name for d in cur.description]
            return [{n: cell(v) for n, v in zip(names, row) if n != "__vl_row"} for row in cur.fetchall()]
    finally:
        conn.rollback()


def main():
    engine, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        tasks = json.load(f)
    if engine == "spark":
        spark = spark_session()
        run = lambda task: run_spark(spark, task)  # noqa: E731
    elif engine == "postgres":
        conn = postgres_connection()
        run = lambda task: run_postgres(conn, task)  # noqa: E731
    else:
        run = run_duckdb
    out = {}
    for task in tasks:
        try:
            out[task["id"]] = {"rows": run(task)}
        except Exception as e:  # noqa: BLE001 - reported per task
            out[task["id"]] = {"error": (str(e).strip().splitlines() or [type(e).__name__])[0]}
    json.dump(out, sys.stdout)


main()
