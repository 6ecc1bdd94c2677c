"""Warehouse tables: charts over a Spark DataFrame, a DuckDB relation or a
PostgreSQL table run their SQL where the data is, through the user's own session
or connection, so its permissions and credentials stay the user's.

A source becomes a :class:`WarehouseTable`: its Arrow schema, the name its
warehouse knows it by (a temporary view where it has none), and its
:class:`Connection`. The runtime unparses the parts of a chart that read it to
the connection's SQL dialect and calls :meth:`Connection.query`; only the reduced
rows come back, as Arrow. Altair receives an empty Arrow table with the schema
(shorthand types are inferred from it) and never the rows.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ._vegalake import DataError, EngineError, VegalakeError

log = logging.getLogger("vegalake")

_names = itertools.count()


def _view_name() -> str:
    """A name for a temporary view, unique in this process."""
    return f"vl_src_{uuid.uuid4().hex[:8]}_{next(_names)}"


def _module(obj: Any) -> str:
    """The module of ``obj``'s type, without a leading underscore (DuckDB's
    classes live in ``_duckdb``)."""
    return type(obj).__module__.lstrip("_")


class Connection:
    """A warehouse connection as the runtime uses it: a SQL dialect, a label for
    messages, ``query`` and ``cancel``. Subclasses wrap each driver."""

    dialect: str = ""
    label: str = ""

    def query(self, sql: str) -> pa.Table:
        """The rows of one query, as Arrow."""
        raise NotImplementedError

    def cancel(self) -> None:
        """Stops the running query (the runtime's timeout passed)."""


# How long a cancel waits for the cancelled query to put the user's connection
# back (roll back its transaction, restore its settings) before the timeout error
# reaches the user: a driver whose cancel does not arrive must not hang the call.
_CANCEL_SETTLE_SECONDS = 10.0


def _settled(lock: threading.Lock) -> None:
    """Waits until the query holding ``lock`` is over (bounded)."""
    if lock.acquire(timeout=_CANCEL_SETTLE_SECONDS):
        lock.release()


@dataclass
class WarehouseTable:
    """A table a chart reads through a :class:`Connection`, by ``relation`` (the
    name's parts there)."""

    connection: Connection
    relation: list[str]
    schema: pa.Schema
    collect_limit: int | None = None
    identity: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __post_init__(self) -> None:
        # Columns the runtime cannot evaluate (lists, structs) are left out, as
        # they are of in-memory frames.
        from ._tables import _evaluable

        self.schema = pa.schema([f for f in self.schema if _evaluable(f.type)])


# -- DuckDB -------------------------------------------------------------------------


class DuckDBConnection(Connection):
    """A DuckDB connection, or a relation's (DuckDB relations do not expose
    theirs): queries run on the connection itself, or on the relation's with
    ``relation.query``; ``con.interrupt()`` cancels where the connection is known."""

    dialect = "duckdb"
    label = "duckdb connection"

    def __init__(self, con: Any = None, relation: Any = None, name: str | None = None) -> None:
        self._con = con
        self._relation = relation
        self._name = name

    def query(self, sql: str) -> pa.Table:
        # A table of the connection is read by its own name, without a view: a
        # read-only database accepts no view.
        result = self._relation.query(self._name, sql) if self._relation is not None else self._con.sql(sql)
        return result.to_arrow_table() if hasattr(result, "to_arrow_table") else result.fetch_arrow_table()

    def cancel(self) -> None:
        if self._con is not None:
            self._con.interrupt()


def _duckdb_table(relation: Any, con: Any = None, collect_limit: int | None = None) -> WarehouseTable:
    """A relation as a warehouse table, read through the relation (as a view of
    its own name)."""
    name = _view_name()
    connection = DuckDBConnection(con, relation, name)
    schema = connection.query(f'SELECT * FROM "{name}" LIMIT 0').schema
    return WarehouseTable(connection, [name], schema, collect_limit)


_duckdb_connections: dict[int, DuckDBConnection] = {}


def _duckdb_named_table(con: Any, table: str, collect_limit: int | None = None) -> WarehouseTable:
    """A table of a DuckDB connection, read by its name on that connection."""
    connection = _duckdb_connections.setdefault(id(con), DuckDBConnection(con))
    relation = table.split(".")
    quoted = ".".join('"' + part.replace('"', '""') + '"' for part in relation)
    schema = connection.query(f"SELECT * FROM {quoted} LIMIT 0").schema
    return WarehouseTable(connection, relation, schema, collect_limit)


# -- Spark ----------------------------------------------------------------------------


class SparkConnection(Connection):
    """A Spark session (classic PySpark or Spark Connect). Each query runs with
    the settings vegalake's Spark SQL assumes (UTC session time, ANSI mode off),
    and the session's own values are put back after."""

    dialect = "spark"

    # What our Spark SQL assumes (SqlDialect::Spark's session settings).
    SETTINGS = {"spark.sql.session.timeZone": "UTC", "spark.sql.ansi.enabled": "false"}

    def __init__(self, session: Any) -> None:
        self.session = session
        self.label = "spark connect session" if ".connect" in _module(session) else "spark session"
        self._lock = threading.Lock()

    @contextmanager
    def _settings(self) -> Iterator[None]:
        conf = self.session.conf
        before = {key: conf.get(key, None) for key in self.SETTINGS}
        for key, value in self.SETTINGS.items():
            conf.set(key, value)
        try:
            yield
        finally:
            for key, value in before.items():
                if value is None:
                    conf.unset(key)
                else:
                    conf.set(key, value)

    def query(self, sql: str) -> pa.Table:
        with self._lock, self._settings():
            return self.session.sql(sql).toArrow()

    def cancel(self) -> None:
        if hasattr(self.session, "interruptAll"):
            self.session.interruptAll()
        else:
            self.session.sparkContext.cancelAllJobs()
        # The session's own settings are back before the caller hears of the timeout.
        _settled(self._lock)


_spark_connections: dict[int, SparkConnection] = {}


def _spark_table(frame: Any, collect_limit: int | None = None) -> WarehouseTable:
    session = frame.sparkSession
    connection = _spark_connections.setdefault(id(session), SparkConnection(session))
    name = _view_name()
    frame.createOrReplaceTempView(name)
    schema = connection.query(f"SELECT * FROM `{name}` LIMIT 0").schema
    return WarehouseTable(connection, [name], schema, collect_limit)


# -- PostgreSQL -----------------------------------------------------------------------

# PostgreSQL type OIDs and the Arrow types their values become.
_PG_TYPES: dict[int, pa.DataType] = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int64(),
    23: pa.int64(),
    700: pa.float64(),
    701: pa.float64(),
    1700: pa.float64(),
    18: pa.string(),
    19: pa.string(),
    25: pa.string(),
    1042: pa.string(),
    1043: pa.string(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
}


class PostgresConnection(Connection):
    """A psycopg 3 connection (or a SQLAlchemy engine's). Each query runs in a
    transaction of its own with the session time zone set to UTC for it alone
    (``SET LOCAL``), as vegalake's PostgreSQL SQL assumes."""

    dialect = "postgres"
    label = "postgres connection"

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self._lock = threading.Lock()

    def query(self, sql: str) -> pa.Table:
        with self._lock, self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute("SET LOCAL TIME ZONE 'UTC'")
            cur.execute(sql)
            rows = cur.fetchall()
            names = [d.name for d in cur.description]
            types = [_PG_TYPES.get(d.type_code, pa.string()) for d in cur.description]
        columns = [_pg_column([r[i] for r in rows], t) for i, t in enumerate(types)]
        return pa.table(columns, schema=pa.schema(list(zip(names, types, strict=True))))

    def cancel(self) -> None:
        cancel = getattr(self.conn, "cancel_safe", None) or self.conn.cancel
        cancel()
        # The cancelled statement's transaction is rolled back before the caller
        # hears of the timeout: the connection is theirs again (measured: a
        # statement run on it at once found the transaction aborted).
        _settled(self._lock)


def _pg_column(values: list, arrow_type: pa.DataType) -> pa.Array:
    if pa.types.is_floating(arrow_type):
        values = [float(v) if isinstance(v, decimal.Decimal) else v for v in values]
    elif pa.types.is_string(arrow_type):
        values = [v if v is None or isinstance(v, str) else str(v) for v in values]
    elif pa.types.is_timestamp(arrow_type) and arrow_type.tz:
        values = [v.astimezone(dt.timezone.utc) if v is not None else None for v in values]
    return pa.array(values, type=arrow_type)


_pg_connections: dict[int, PostgresConnection] = {}


def _postgres_table(conn: Any, query: str | None, table: str | None, collect_limit: int | None) -> WarehouseTable:
    connection = _pg_connections.setdefault(id(conn), PostgresConnection(conn))
    if table is not None:
        relation = table.split(".")
    else:
        relation = [_view_name()]
        with conn.transaction(), conn.cursor() as cur:
            cur.execute(f'CREATE TEMPORARY VIEW "{relation[0]}" AS {query}')
    quoted = ".".join('"' + part.replace('"', '""') + '"' for part in relation)
    schema = connection.query(f"SELECT * FROM {quoted} LIMIT 0").schema
    return WarehouseTable(connection, relation, schema, collect_limit)


def _typed(label: str, e: Exception) -> VegalakeError:
    """A driver's error as vegalake's: a missing table is a DataError, anything
    else (credentials, a dropped connection) an EngineError; one line."""
    text = " ".join(str(e).split()) or type(e).__name__
    missing = type(e).__name__ in ("UndefinedTable", "CatalogException", "NoSuchTableError") or "TABLE_OR_VIEW_NOT_FOUND" in text
    kind = DataError if missing else EngineError
    return kind(f"{label}: {type(e).__name__}: {text[:300]}")


@contextmanager
def _driver_errors(label: str) -> Iterator[None]:
    try:
        yield
    except VegalakeError:
        raise
    except Exception as e:  # noqa: BLE001 - every driver has its own exception classes
        raise _typed(label, e) from e


# -- which objects are warehouse sources ----------------------------------------------


def is_spark_frame(obj: Any) -> bool:
    module = _module(obj)
    return module.startswith("pyspark.sql") and type(obj).__name__ == "DataFrame"


def is_duckdb_relation(obj: Any) -> bool:
    return _module(obj).startswith("duckdb") and type(obj).__name__ == "DuckDBPyRelation"


def is_warehouse_source(obj: Any) -> bool:
    """True for a Spark DataFrame or a DuckDB relation."""
    return is_spark_frame(obj) or is_duckdb_relation(obj)


def table_for(obj: Any, collect_limit: int | None = None) -> WarehouseTable:
    """The warehouse table of a Spark DataFrame or a DuckDB relation."""
    if is_spark_frame(obj):
        with _driver_errors("spark session"):
            return _spark_table(obj, collect_limit)
    if is_duckdb_relation(obj):
        with _driver_errors("duckdb connection"):
            return _duckdb_table(obj, collect_limit=collect_limit)
    raise TypeError(f"vegalake: {type(obj).__name__} is not a warehouse table (expected a Spark DataFrame or a DuckDB relation)")


def sql_table(connection: Any, query: str | None = None, *, table: str | None = None, collect_limit: int | None = None) -> WarehouseTable:
    """The warehouse table of a query or a table on a DB-API connection (psycopg 3,
    DuckDB) or a SQLAlchemy engine."""
    if (query is None) == (table is None):
        raise ValueError("vegalake.sql: give a query or table=, not both")
    driver = connection
    if hasattr(connection, "raw_connection") and hasattr(connection, "dialect"):
        # A SQLAlchemy engine: its driver's connection, held for the source's life.
        with _driver_errors(f"{connection.dialect.name} engine"):
            driver = connection.raw_connection().driver_connection
    module = _module(driver)
    if module.startswith("duckdb"):
        with _driver_errors("duckdb connection"):
            if table is not None:
                return _duckdb_named_table(driver, table, collect_limit)
            return _duckdb_table(driver.sql(query), con=driver, collect_limit=collect_limit)
    if module.startswith("psycopg"):
        with _driver_errors("postgres connection"):
            return _postgres_table(driver, query, table, collect_limit)
    raise TypeError(f"vegalake.sql: {type(connection).__name__} is not a connection vegalake knows (expected psycopg 3, DuckDB or a SQLAlchemy engine)")


# -- tables named in specs ---------------------------------------------------------------

# Warehouse tables by the name specs give them; each is light (no rows), but it
# holds the user's connection, so only the most recent are kept.
_KEEP = 256


class _Registry:
    def __init__(self) -> None:
        self._tables: OrderedDict[str, WarehouseTable] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, table: WarehouseTable) -> str:
        with self._lock:
            name = f"warehouse_{table.identity}"
            self._tables[name] = table
            while len(self._tables) > _KEEP:
                self._tables.popitem(last=False)
            return name

    def get(self, name: str) -> WarehouseTable | None:
        with self._lock:
            return self._tables.get(name)


registry = _Registry()

# How the runtime names a warehouse table's scan in plans (connectors' WAREHOUSE_SCAN_PREFIX).
SCAN_PREFIX = "__vl_warehouse_"


def tables_in(vega_spec: dict) -> list[WarehouseTable]:
    """The warehouse tables a Vega spec's data URLs name."""
    from ._tables import _urls, memory_name

    names = {memory_name(url) for url in _urls(vega_spec)}
    return [t for name in names if name is not None and (t := registry.get(name)) is not None]


def table_of_proxy(data: Any) -> WarehouseTable | None:
    """The warehouse table ``data`` stands for, if it is one of the proxies."""
    from ._tables import proxies

    source = proxies.source_of(data)
    return source if isinstance(source, WarehouseTable) else None
