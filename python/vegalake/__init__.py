"""vegalake: run the data half of Altair, Vega-Lite and Vega charts where the data
lives, and ship only what the marks need.

Enable it for every Altair chart::

    import altair as alt
    import vegalake as vl

    vl.enable()                        # or alt.data_transformers.enable("vegalake")
    alt.Chart(df).mark_bar().encode(alt.X("delay", bin=True), y="count()")

Charts over lake tables read nothing in this process until they run::

    flights = vl.parquet("s3://lake/flights/")      # or vl.delta(...), vl.table(...)
    alt.Chart(flights).mark_bar().encode(x="month(date):T", y="count()")

Charts over warehouse tables run their SQL there, through the user's own session
or connection, and only the reduced rows come back::

    alt.Chart(vl.source(spark_df))                    # or a DuckDB relation
    alt.Chart(vl.sql(pg_conn, table="flights"))       # psycopg 3, DuckDB, SQLAlchemy

In Jupyter, ``vl.ChartWidget(chart)`` (or ``vl.enable(widget=True)``) answers a
chart's interactions in the kernel: a brush over 100M rows moves like one over
1,000.

Functions that take a chart: :func:`to_vega` (the pre-transformed client Vega
spec), :func:`transformed_data`, :func:`to_html`, :func:`save`, :func:`explain`.
:class:`Runtime` has VegaFusion's methods (``pre_transform_spec``, ...), and
``vl.runtime`` is the default one. Errors are :class:`VegalakeError` subclasses,
each with a one-line message saying where and what.
"""

from __future__ import annotations

import os
from typing import Any

from . import _altair, _tables, _warehouse
from ._altair import RowLimitError, explain, image, save, to_html, to_vega, transformed_data
from ._batch import batch
from ._runtime import ChartState, Runtime
from ._vegalake import DataError, EngineError, ForbiddenError, MemoryLimitError, QueryTimeout, RenderError, SpecError, VegalakeError
from ._vegalake import version as _crate_version

__version__ = _crate_version()

__all__ = [
    "ChartState",
    "ChartWidget",
    "DataError",
    "EngineError",
    "ForbiddenError",
    "MemoryLimitError",
    "QueryTimeout",
    "RenderError",
    "RowLimitError",
    "Runtime",
    "SpecError",
    "VegalakeError",
    "batch",
    "delta",
    "enable",
    "explain",
    "image",
    "parquet",
    "runtime",
    "save",
    "source",
    "sql",
    "table",
    "to_html",
    "to_vega",
    "transformed_data",
]


def enable(
    engine: str = "local",
    *,
    row_limit: int | None = None,
    local_tz: str | None = None,
    catalog: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    allow_roots: list[str] | tuple[str, ...] = (),
    timeout: float | None = None,
    cache_bytes: int | None = None,
    widget: bool = False,
    token: str | None = None,
    tls_ca: str | os.PathLike | None = None,
) -> Runtime:
    """Makes every Altair chart run its data on vegalake: enables the ``vegalake``
    data transformer and renderer, on a runtime over ``engine``; and lets
    ``alt.Chart`` take a Spark DataFrame or a polars LazyFrame (see :func:`source`).

    Parameters
    ----------
    engine:
        ``"local"`` (embedded DataFusion), ``"ballista://HOST:PORT"``,
        ``"spark://HOST:PORT"``, or ``"grpc://HOST:PORT"`` (a ``vegalake serve``;
        ``token`` is its bearer token; over TLS ``grpcs://``, with ``tls_ca`` the
        PEM file of its certificate authority if the system does not trust it).
    row_limit:
        The most rows any dataset may send to the browser; a chart over it raises
        :class:`RowLimitError` naming the dataset. Input size is never limited.
    local_tz:
        The IANA zone of local-time functions and time units (default UTC).
    catalog, data_dir, allow_roots, timeout, cache_bytes:
        As for :class:`Runtime`.
    widget:
        Show every chart as a :class:`ChartWidget` (the ``vegalake-widget``
        renderer): interactions run in the kernel. Needs ``anywidget``.
    """
    import altair as alt

    rt = Runtime(engine, catalog=catalog, data_dir=data_dir, allow_roots=allow_roots, cache_bytes=cache_bytes, timeout=timeout, token=token, tls_ca=tls_ca)
    _altair.settings.runtime = rt
    _altair.settings.row_limit = row_limit
    _altair.settings.local_tz = local_tz
    alt.data_transformers.enable("vegalake")
    alt.renderers.enable("vegalake-widget" if widget else "vegalake")
    _altair.accept_lazy_sources()
    return rt


def __getattr__(name: str) -> Any:
    # `vl.runtime` is the runtime charts use, made on first use.
    if name == "runtime":
        return _altair.runtime()
    # The widget needs anywidget, an optional dependency: imported on first use.
    if name == "ChartWidget":
        try:
            from ._widget import ChartWidget
        except ImportError as e:
            raise ImportError("vegalake.ChartWidget needs anywidget (pip install 'vegalake[widget]')") from e
        return ChartWidget
    raise AttributeError(f"module 'vegalake' has no attribute {name!r}")


def parquet(url: str | os.PathLike) -> Any:
    """A Parquet file, directory (hive partitions) or glob, local or on an object
    store, as chart data. Altair infers shorthand types from its schema; no row is
    read here."""
    location, root = _tables.local_or_url(url)
    return _lake(location if location.startswith("parquet+") else "parquet+" + location, root)


def delta(url: str | os.PathLike, version: int | None = None, timestamp: str | None = None) -> Any:
    """A Delta table as chart data, at its latest version, at ``version``, or at
    the version current at ``timestamp`` (RFC 3339)."""
    if version is not None and timestamp is not None:
        raise ValueError("vegalake.delta: give version or timestamp, not both")
    location, root = _tables.local_or_url(url)
    location = location if location.startswith("delta+") else "delta+" + location
    if version is not None:
        location += f"?version={int(version)}"
    elif timestamp is not None:
        location += f"?timestamp={timestamp}"
    return _lake(location, root)


def table(name: str, version: int | None = None) -> Any:
    """A table of the runtime's catalog (``vl.enable(catalog="vegalake.toml")``)."""
    return _lake(f"table://{name}" + (f"?version={int(version)}" if version is not None else ""), None)


def _lake(url: str, root: str | None) -> Any:
    schema = _altair.runtime().source_schema(url, allow_root=root)
    return _tables.proxies.add(schema, _tables.LakeTable(url=url, allow_root=root))


def source(data: Any, *, collect_limit: int | None = None) -> Any:
    """Chart data from where it lives: a Spark DataFrame (classic or Spark Connect)
    or a DuckDB relation runs its charts' SQL through its own session; a polars
    LazyFrame is collected with only the columns a chart mentions; frames are
    returned as they are.

    ``collect_limit`` lets up to that many of a warehouse table's rows come to
    this process, for a part of a chart with no SQL form in its dialect (with a
    warning that says why); without it, such a chart raises :class:`EngineError`.
    Altair receives an empty table with the source's schema, never its rows.
    """
    if _warehouse.is_warehouse_source(data):
        table = _warehouse.table_for(data, collect_limit)
        return _tables.proxies.add(table.schema, table)
    if type(data).__module__.startswith("polars") and type(data).__name__ == "LazyFrame":
        import pyarrow as pa

        schema = pa.schema([(name, _polars_arrow_type(dtype)) for name, dtype in data.collect_schema().items()])
        return _tables.proxies.add(schema, data)
    return data


def sql(connection: Any, query: str | None = None, *, table: str | None = None, collect_limit: int | None = None) -> Any:
    """A query or a table on a connection as chart data: a psycopg 3 connection
    (PostgreSQL), a DuckDB connection, or a SQLAlchemy engine over either. Each
    chart's SQL runs on that connection; ``collect_limit`` as for :func:`source`."""
    source = _warehouse.sql_table(connection, query, table=table, collect_limit=collect_limit)
    return _tables.proxies.add(source.schema, source)


def _polars_arrow_type(dtype: Any) -> Any:
    import polars as pl

    return pl.Series([], dtype=dtype).to_arrow().type
