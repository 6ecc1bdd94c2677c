"""Charts over warehouse tables: DuckDB (in process), PostgreSQL (the server
scripts/test.sh starts, $VEGALAKE_POSTGRES_DSN) and Spark Connect (the server it
starts, $VEGALAKE_SPARK_CONNECT). Each suite chart over a pandas frame is drawn
again over the same rows loaded into the warehouse; its data must be vega.js's,
and what crossed the connection no more rows than the chart's datasets hold.

A missing server fails these tests: none is mocked or skipped."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import altair as alt
import pandas as pd
import pyarrow as pa
import pytest
from conftest import expected
from rows import difference, expected_rows, table_rows
from suite import CHARTS, LOCAL_TZ

import vegalake as vl
from vegalake import _tables, _warehouse
from vegalake._altair import settings, transformed_tables

# What each warehouse must chart as vega.js does, of the suite's charts over one
# pandas frame (the rest need the rows' input order, or a construct with no SQL
# form in the dialect, and refuse with a typed error).
AT_LEAST = 20


def _env(name: str) -> str:
    value = os.environ.get(name)
    assert value, f"${name} is not set: scripts/test.sh starts the server these tests use"
    return value


def _one_frame_charts() -> dict[str, Callable[[], alt.TopLevelMixin]]:
    """The suite's charts whose data is one pandas frame at the top level."""
    out = {}
    for name, make in sorted(CHARTS.items()):
        chart = make()
        layers = getattr(chart, "layer", None) or []
        if isinstance(chart.data, pd.DataFrame) and all(not isinstance(getattr(layer, "data", None), pd.DataFrame) for layer in layers):
            out[name] = make
    return out


ONE_FRAME = _one_frame_charts()


# -- loading a frame into each warehouse -----------------------------------------------------


def _arrow(frame: pd.DataFrame, local_tz: str | None) -> pa.Table:
    """The rows as vegalake sees the frame (naive dates in the chart's zone)."""
    return _tables.in_zone(_tables.to_arrow(frame), local_tz)


class Recorder:
    """Wraps a connection's query to record how many rows each returned."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self._lock = threading.Lock()

    def wrap(self, connection: _warehouse.Connection) -> None:
        if getattr(connection, "_recorded", False):
            return
        query = connection.query

        def recorded(sql: str) -> pa.Table:
            table = query(sql)
            with self._lock:
                self.rows.append(table.num_rows)
            return table

        connection.query = recorded  # type: ignore[method-assign]
        connection._recorded = True  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def duckdb_con() -> Iterator[Any]:
    import duckdb

    con = duckdb.connect()
    yield con
    con.close()


@pytest.fixture(scope="module")
def pg_conn() -> Iterator[Any]:
    import psycopg

    conn = psycopg.connect(_env("VEGALAKE_POSTGRES_DSN"), autocommit=True)
    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    session = SparkSession.builder.remote(_env("VEGALAKE_SPARK_CONNECT")).getOrCreate()
    yield session
    session.stop()


_PG_TYPES = {"double": "DOUBLE PRECISION", "int64": "BIGINT", "bool": "BOOLEAN", "string": "TEXT", "large_string": "TEXT"}


def _pg_type(t: pa.DataType) -> str:
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_integer(t):
        return "BIGINT"
    if pa.types.is_floating(t):
        return "DOUBLE PRECISION"
    return _PG_TYPES.get(str(t), "TEXT")


def load_duckdb(con: Any, name: str, table: pa.Table) -> Any:
    con.register("incoming", table)
    con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM incoming')
    con.unregister("incoming")
    return vl.sql(con, table=name)


def load_postgres(conn: Any, name: str, table: pa.Table) -> Any:
    columns = ", ".join(f'"{f.name}" {_pg_type(f.type)}' for f in table.schema)
    conn.execute(f'DROP TABLE IF EXISTS "{name}"')
    conn.execute(f'CREATE TABLE "{name}" ({columns})')
    names = ", ".join(f'"{f.name}"' for f in table.schema)
    with conn.cursor() as cur, cur.copy(f'COPY "{name}" ({names}) FROM STDIN') as copy:
        for row in table.to_pylist():
            copy.write_row([row[f.name] for f in table.schema])
    return vl.sql(conn, table=name)


def load_spark(spark: Any, name: str, table: pa.Table) -> Any:
    return vl.source(spark.createDataFrame(table.to_pandas()))


# -- the charts ------------------------------------------------------------------------------


def _chart_over(name: str, load: Callable[[str, pa.Table], Any]) -> tuple[alt.TopLevelMixin, pa.Table]:
    chart = ONE_FRAME[name]()
    rows = _arrow(chart.data, LOCAL_TZ.get(name))
    return chart.properties(data=load(f"suite_{name}", rows)), rows


def _outcome(name: str, chart: alt.TopLevelMixin) -> tuple[str | None, int]:
    """None if the chart's data is vega.js's, else what differs or why it
    refused; and the most rows a dataset of the chart holds: its views', and the
    datasets its pre-transformed spec ships (a brush filtered in the browser
    needs the rows it filters)."""
    settings.local_tz = LOCAL_TZ.get(name)
    try:
        tables = transformed_tables(chart)
        client, _ = vl.to_vega(chart)
    except (vl.DataError, vl.EngineError) as e:
        return f"refused: {type(e).__name__}: {e}", 0
    finally:
        settings.local_tz = None
    want = expected(name)["views"]
    for i, (table, rows) in enumerate(zip(tables, want, strict=True)):
        diff = difference(table_rows(table), expected_rows(rows))
        if diff is not None:
            return f"WRONG view {i}: {diff}", 0
    shipped = [len(d.get("values", [])) for d in _datasets(client)]
    return None, max([t.num_rows for t in tables] + shipped + [1])


def _datasets(spec: dict) -> Iterator[dict]:
    yield from spec.get("data", [])
    for mark in spec.get("marks", []):
        yield from _datasets(mark)


def _check_warehouse(label: str, load: Callable[[str, pa.Table], Any], returned: Callable[[str], list[int]]) -> None:
    """Every one-frame chart: none wrong, at least AT_LEAST equal to vega.js, and
    no query returned more rows than the chart's largest dataset."""
    equal, refused, wrong = [], {}, {}
    for name in ONE_FRAME:
        chart, _ = _chart_over(name, load)
        outcome, biggest = _outcome(name, chart)
        if outcome is None:
            equal.append(name)
            counts = returned(name)
            assert counts, f"{label} {name}: no query reached the warehouse"
            assert max(counts) <= biggest, f"{label} {name}: a query returned {max(counts)} rows, the chart's datasets hold {biggest}"
        elif outcome.startswith("refused"):
            refused[name] = outcome
        else:
            wrong[name] = outcome
    print(f"\n{label}: {len(equal)} of {len(ONE_FRAME)} charts equal to vega.js, {len(refused)} refused, {len(wrong)} wrong")
    for name, why in sorted(refused.items()):
        print(f"  refused {name}: {why[:160]}")
    assert not wrong, f"{label}: charts whose data differs from vega.js: {wrong}"
    assert len(equal) >= AT_LEAST, f"{label}: only {len(equal)} charts equal to vega.js"


def test_the_suite_has_enough_one_frame_charts():
    assert len(ONE_FRAME) >= AT_LEAST + 10


def test_duckdb_charts_equal_vegajs(duckdb_con):
    recorder = Recorder()
    seen: dict[str, int] = {}

    def load(name: str, table: pa.Table) -> Any:
        proxy = load_duckdb(duckdb_con, name, table)
        recorder.wrap(_warehouse.table_of_proxy(proxy).connection)
        seen[name] = len(recorder.rows)
        return proxy

    _check_warehouse("duckdb", load, lambda name: recorder.rows[seen[f"suite_{name}"] :])


def test_postgres_charts_equal_vegajs_and_its_statement_log_shows_no_collect(pg_conn):
    def load(name: str, table: pa.Table) -> Any:
        proxy = load_postgres(pg_conn, name, table)
        pg_conn.execute("SELECT pg_stat_statements_reset()")
        return proxy

    def returned(name: str) -> list[int]:
        # The server's own log of what each statement returned (vegalake's
        # queries read the table; the schema probe returns no row).
        rows = pg_conn.execute(
            "SELECT rows / greatest(calls, 1) FROM pg_stat_statements WHERE query LIKE %s AND query NOT LIKE '%%pg_stat_statements%%'",
            (f'%"suite_{name}"%',),
        ).fetchall()
        return [int(r[0]) for r in rows]

    _check_warehouse("postgres", load, returned)


def test_spark_connect_charts_equal_vegajs(spark):
    recorder = Recorder()
    seen: dict[str, int] = {}

    def load(name: str, table: pa.Table) -> Any:
        proxy = load_spark(spark, name, table)
        recorder.wrap(_warehouse.table_of_proxy(proxy).connection)
        seen[name] = len(recorder.rows)
        return proxy

    _check_warehouse("spark connect", load, lambda name: recorder.rows[seen[f"suite_{name}"] :])
