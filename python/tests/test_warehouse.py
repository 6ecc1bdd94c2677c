"""Charts over warehouse tables: DuckDB (in process), PostgreSQL (the server
scripts/test.sh starts, $VEGALAKE_POSTGRES_DSN) and Spark Connect (the server it
starts, $VEGALAKE_SPARK_CONNECT). Each suite chart over a pandas frame is drawn
again over the same rows loaded into the warehouse; its data must be vega.js's,
and the warehouse's own log must show that no query returned more rows than the
chart's datasets hold: PostgreSQL's pg_stat_statements, DuckDB's QueryLog (each
logged read run again to count its rows), and the Spark server's SQL executions
($VEGALAKE_SPARK_UI, the rows each plan's root output).

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
        """Records the connection's queries here (from now on, and no longer in
        a recorder that wrapped it before)."""
        query = type(connection).query.__get__(connection)

        def recorded(sql: str) -> pa.Table:
            table = query(sql)
            with self._lock:
                self.rows.append(table.num_rows)
            return table

        connection.query = recorded  # type: ignore[method-assign]


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
    # A table of files, not a local relation: Spark Connect answers a query over
    # a local relation in the driver without a SQL execution, so the server's
    # log would not show a collect of it.
    spark.createDataFrame(table.to_pandas()).write.mode("overwrite").saveAsTable(name)
    return vl.source(spark.table(name))


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


class DuckDBQueryLog:
    """DuckDB's own log of every statement run on the database (its QueryLog,
    whatever cursor or relation ran it); the rows each read returned are counted
    by running it again."""

    def __init__(self, con: Any) -> None:
        self._con = con
        con.cursor().execute("CALL enable_logging('QueryLog')")
        self.mark()

    def _logged(self) -> int:
        # Each statement logs in a context of its own, numbered in order.
        return self._con.cursor().execute("SELECT coalesce(max(context_id), 0) FROM duckdb_logs WHERE type = 'QueryLog'").fetchone()[0]

    def mark(self) -> None:
        """Statements from now on are the next chart's."""
        self._since = self._logged()

    def returned(self) -> list[int]:
        logged = f"SELECT message FROM duckdb_logs WHERE type = 'QueryLog' AND context_id > {self._since}"
        statements = [
            m for (m,) in self._con.cursor().execute(logged).fetchall() if m.lstrip().upper().startswith(("SELECT", "WITH")) and "duckdb_logs" not in m
        ]
        counts = [len(self._con.cursor().execute(sql).fetchall()) for sql in statements]
        self.mark()  # the counting runs are logged too
        return counts


def test_duckdb_charts_equal_vegajs_and_its_query_log_shows_no_collect(duckdb_con):
    log = DuckDBQueryLog(duckdb_con)

    def load(name: str, table: pa.Table) -> Any:
        proxy = load_duckdb(duckdb_con, name, table)
        log.mark()
        return proxy

    _check_warehouse("duckdb", load, lambda name: log.returned())


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


class SparkExecutions:
    """The Spark server's own log of SQL executions (its UI's REST API): what the
    root of each execution's plan output, in rows."""

    def __init__(self, ui: str) -> None:
        import json
        import urllib.request

        def get(path: str) -> Any:
            with urllib.request.urlopen(f"{ui}/api/v1/applications{path}") as response:
                return json.load(response)

        self._get = get
        self._app = get("")[0]["id"]
        self.mark()

    def _executions(self) -> list[dict]:
        return self._get(f"/{self._app}/sql?details=true&planDescription=false&offset=0&length=1000000")

    def mark(self) -> None:
        """Executions from now on are the next chart's."""
        self._since = max((e["id"] for e in self._executions()), default=-1)

    def returned(self) -> list[int]:
        """Rows each query since the mark returned. The listener records an
        execution's end after the client has its rows: waits for every one to end."""
        for _ in range(10_000):
            executions = [e for e in self._executions() if e["id"] > self._since]
            if all(e["status"] != "RUNNING" for e in executions):
                break
        return [rows for e in executions if (rows := _root_rows(e)) is not None]


def _root_rows(execution: dict) -> int | None:
    """The rows the root of an execution's plan output: the first nodes from the
    root down whose "number of output rows" is measured (a command has none)."""
    edges = execution.get("edges", [])
    children: dict[int, list[int]] = {}
    for edge in edges:
        children.setdefault(edge["toId"], []).append(edge["fromId"])
    measured = {}
    for node in execution["nodes"]:
        for metric in node.get("metrics", []):
            if metric["name"] == "number of output rows":
                measured[node["nodeId"]] = int(metric["value"].replace(",", ""))
    parents = {edge["fromId"] for edge in edges}
    roots = [n["nodeId"] for n in execution["nodes"] if n["nodeId"] not in parents and (n["nodeId"] in children or n["nodeId"] in measured)]

    def rows(node: int) -> int | None:
        if node in measured:
            return measured[node]
        below = [r for child in children.get(node, []) if (r := rows(child)) is not None]
        return sum(below) if below else None

    found = [r for root in roots if (r := rows(root)) is not None]
    return sum(found) if found else None


def test_spark_connect_charts_equal_vegajs_and_its_execution_log_shows_no_collect(spark):
    executions = SparkExecutions(_env("VEGALAKE_SPARK_UI"))

    def load(name: str, table: pa.Table) -> Any:
        proxy = load_spark(spark, name, table)
        executions.mark()
        return proxy

    _check_warehouse("spark connect", load, lambda name: executions.returned())


# -- errors ------------------------------------------------------------------------------------


def _count_chart(source: Any) -> alt.Chart:
    return alt.Chart(source).mark_bar().encode(x="k:N", y="count()")


@pytest.fixture
def pg_table(pg_conn) -> str:
    pg_conn.execute("DROP TABLE IF EXISTS errors_t")
    pg_conn.execute("CREATE TABLE errors_t AS SELECT g::float8 AS v, 'k' || (g % 3) AS k FROM generate_series(1, 30) g")
    return "errors_t"


def _sqlalchemy_url(user: str = "postgres") -> str:
    params = dict(part.split("=", 1) for part in _env("VEGALAKE_POSTGRES_DSN").split())
    return f"postgresql+psycopg://{user}@{params['host']}:{params['port']}/{params['dbname']}"


def test_a_sqlalchemy_engine_and_a_query_are_sources(pg_table):
    import sqlalchemy

    engine = sqlalchemy.create_engine(_sqlalchemy_url())
    (table,) = transformed_tables(_count_chart(vl.sql(engine, table=pg_table)))
    assert sorted(table.column("__count").to_pylist()) == [10, 10, 10]
    (table,) = transformed_tables(_count_chart(vl.sql(engine, f"SELECT * FROM {pg_table} WHERE v <= 15")))
    assert sorted(table.column("__count").to_pylist()) == [5, 5, 5]
    engine.dispose()


def test_wrong_credentials_raise_an_engine_error():
    import sqlalchemy

    engine = sqlalchemy.create_engine(_sqlalchemy_url("no_such_user"))
    with pytest.raises(vl.EngineError, match=r"^postgresql engine: OperationalError: .*no_such_user"):
        vl.sql(engine, table="errors_t")


def test_explain_names_the_warehouse_that_ran_the_dataset(pg_conn, pg_table):
    (entry,) = vl.explain(_count_chart(vl.sql(pg_conn, table=pg_table)))
    assert entry["engine"] == "postgres connection"
    assert entry["where"] == "server"
    assert entry["rows"] == 3


def test_a_missing_table_raises_a_data_error(pg_conn, duckdb_con):
    with pytest.raises(vl.DataError, match=r"^postgres connection: UndefinedTable: .*no_such_table"):
        vl.sql(pg_conn, table="no_such_table")
    with pytest.raises(vl.DataError, match=r"^duckdb connection: CatalogException: .*no_such_table"):
        vl.sql(duckdb_con, table="no_such_table")


def test_a_dropped_connection_raises_and_the_runtime_serves_other_charts(pg_conn, pg_table):
    import psycopg

    doomed = psycopg.connect(_env("VEGALAKE_POSTGRES_DSN"), autocommit=True)
    chart = _count_chart(vl.sql(doomed, table=pg_table))
    pg_conn.execute("SELECT pg_terminate_backend(%s)", (doomed.info.backend_pid,))
    with pytest.raises(vl.EngineError, match=r"postgres connection: \w+"):
        transformed_tables(chart)
    (table,) = transformed_tables(_count_chart(vl.sql(pg_conn, table=pg_table)))
    assert sorted(table.column("__count").to_pylist()) == [10, 10, 10]


def test_a_query_past_the_timeout_is_cancelled_on_the_server(pg_conn, pg_table):
    import psycopg

    source = vl.sql(pg_conn, table=pg_table)
    # Another session holds the table: the chart's query waits for it until the
    # runtime's timeout cancels it (nothing here waits on a clock).
    holder = psycopg.connect(_env("VEGALAKE_POSTGRES_DSN"))
    holder.execute(f"LOCK TABLE {pg_table} IN ACCESS EXCLUSIVE MODE")
    before = settings.runtime
    settings.runtime = vl.Runtime(timeout=1.0)
    try:
        with pytest.raises(vl.QueryTimeout, match="cancelled after the 1 s timeout"):
            transformed_tables(_count_chart(source))
        # Cancelled on the server: no statement waits for the lock any more (the
        # connection answers once the cancelled statement is over).
        waiting = pg_conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0]
        assert waiting == 0
        holder.rollback()
        (table,) = transformed_tables(_count_chart(vl.sql(pg_conn, table=pg_table)))
        assert table.num_rows == 3
    finally:
        settings.runtime = before
        holder.close()


def test_collect_limit_lets_rows_come_here_with_a_warning(duckdb_con, caplog):
    duckdb_con.execute("CREATE OR REPLACE TABLE kde_t AS SELECT (range % 17)::DOUBLE AS v FROM range(200)")
    chart = alt.Chart(vl.sql(duckdb_con, table="kde_t")).transform_density("v", as_=["v", "density"]).mark_area().encode(x="v:Q", y="density:Q")
    with pytest.raises(vl.EngineError, match="its rows stay in the warehouse.*collect_limit="):
        transformed_tables(chart)
    with pytest.raises(vl.EngineError, match="more than collect_limit=100 rows"):
        transformed_tables(chart.properties(data=vl.sql(duckdb_con, table="kde_t", collect_limit=100)))
    with caplog.at_level("WARNING", logger="vegalake"):
        (table,) = transformed_tables(chart.properties(data=vl.sql(duckdb_con, table="kde_t", collect_limit=1000)))
    assert table.num_rows > 0
    assert any("reading up to 1000 rows of" in r.getMessage() for r in caplog.records)


# -- interactions --------------------------------------------------------------------------------


def test_a_brush_requeries_the_warehouse_and_a_repeated_position_costs_no_query(duckdb_con):
    from suite import cars

    duckdb_con.register("incoming", _tables.to_arrow(cars()))
    duckdb_con.execute("CREATE OR REPLACE TABLE cars_t AS SELECT * FROM incoming")
    source = vl.sql(duckdb_con, table="cars_t")
    recorder = Recorder()
    recorder.wrap(_warehouse.table_of_proxy(source).connection)
    brush = alt.selection_interval(encodings=["x"], name="brush")
    base = alt.Chart(source)
    top = base.mark_bar().encode(alt.X("Horsepower:Q", bin=True), y="count()").add_params(brush)
    bottom = base.mark_bar().encode(x="Origin:N", y="count()").transform_filter(brush)
    with alt.data_transformers.enable("vegalake"):
        vega = vl._altair._vega_of_vegalite((top & bottom).to_dict())
    state = vl.runtime.new_chart_state(vega)
    opened = len(recorder.rows)
    store = [{"unit": "concat_0", "fields": [{"field": "Horsepower", "channel": "x", "type": "R"}], "values": [[50, 100]]}]
    changed = state.update([{"namespace": "data", "name": "brush_store", "scope": [], "value": store}])
    counts = {r["Origin"]: r["__count"] for v in changed if v["namespace"] == "data" for r in v["value"] if "__count" in r}
    cars_in = cars()[(cars()["Horsepower"] >= 50) & (cars()["Horsepower"] <= 100)]
    assert counts == cars_in.groupby("Origin").size().to_dict()
    after_brush = len(recorder.rows)
    assert after_brush > opened, "the brush did not reach the warehouse"
    assert max(recorder.rows[opened:]) <= 3, "a brush query returned more than the filtered view's rows"
    assert state.update([{"namespace": "data", "name": "brush_store", "scope": [], "value": store}]) == []
    moved = [{**store[0], "values": [[60, 120]]}]
    state.update([{"namespace": "data", "name": "brush_store", "scope": [], "value": moved}])
    state.update([{"namespace": "data", "name": "brush_store", "scope": [], "value": store}])
    assert len(recorder.rows) == after_brush + 1, "only the new position queried the warehouse"


# -- sources Altair would drop -----------------------------------------------------------------


def test_altair_charts_take_spark_frames_and_lazy_frames_once_enabled(spark):
    import polars as pl

    frame = spark.range(1000).selectExpr("id % 7 AS k", "CAST(id AS DOUBLE) AS v")
    (table,) = transformed_tables(alt.Chart(frame).mark_bar().encode(x="k:N", y="sum(v):Q"))
    sums = dict(zip(table.column("k").to_pylist(), table.column("sum_v").to_pylist(), strict=True))
    assert sums == {k: float(sum(range(k, 1000, 7))) for k in range(7)}
    lazy = pl.DataFrame({"a": [1, 2, 3, 1], "b": [1.0, 2.0, 3.0, 4.0], "unused": ["x"] * 4}).lazy()
    (table,) = transformed_tables(alt.Chart(lazy).mark_bar().encode(x="a:N", y="sum(b):Q"))
    assert sorted(zip(table.column("a").to_pylist(), table.column("sum_b").to_pylist(), strict=True)) == [(1, 5.0), (2, 2.0), (3, 3.0)]


def test_a_read_only_duckdb_database_is_read_without_views(tmp_path):
    import duckdb

    path = str(tmp_path / "lake.duckdb")
    with duckdb.connect(path) as con:
        con.execute("CREATE TABLE t AS SELECT 'k' || (range % 3) AS k, range::DOUBLE AS v FROM range(30)")
    con = duckdb.connect(path, read_only=True)
    (table,) = transformed_tables(_count_chart(vl.sql(con, table="main.t")))
    assert sorted(table.column("__count").to_pylist()) == [10, 10, 10]
    con.close()
