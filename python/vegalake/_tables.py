"""Where a chart's data comes from: frames held in memory, and lake tables.

In-memory frames (pandas, polars, pyarrow, anything with ``__arrow_c_stream__``)
are converted to Arrow once, when Altair hands them to the data transformer, and
named in the spec as ``vegalake+dataset://NAME``; the runtime reads them without
copies. Lake tables (``vl.parquet``, ``vl.delta``, ``vl.table``) are empty Arrow
tables carrying the table's schema: Altair accepts them and infers shorthand types
from them, and the transformer swaps them for the table's URL, so no row is read
in this process until the chart's server half runs.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from . import _warehouse

log = logging.getLogger("vegalake")

MEMORY_PREFIX = "vegalake+dataset://"
VEGAFUSION_PREFIX = "vegafusion+dataset://"

# How many converted frames stay registered. A spec names its frames until it is
# evaluated; Altair's renderer and `to_vega` evaluate right after `to_dict`, so a
# few suffice, and holding more would pin users' frames (GBs) in memory.
_KEEP_TABLES = 16


class _Registry:
    """Frames by name, the most recently used kept. A frame is converted to Arrow
    when a spec is evaluated, with only the columns that spec mentions (a wide
    frame's other columns are never copied), and the conversion is kept."""

    def __init__(self) -> None:
        self._frames: OrderedDict[str, Any] = OrderedDict()
        self._converted: dict[str, tuple[frozenset[str] | None, pa.Table]] = {}
        self._lock = threading.Lock()
        self._counter = itertools.count()

    def add(self, frame: Any) -> str:
        with self._lock:
            name = f"table_{os.getpid()}_{next(self._counter)}"
            self._frames[name] = frame
            while len(self._frames) > _KEEP_TABLES:
                old, _ = self._frames.popitem(last=False)
                self._converted.pop(old, None)
            return name

    def table(self, name: str, columns: frozenset[str] | None, local_tz: str | None = None) -> pa.Table | None:
        """The frame as Arrow, restricted to ``columns`` (all when None), naive
        datetimes read in ``local_tz``."""
        with self._lock:
            frame = self._frames.get(name)
            if frame is None:
                return None
            self._frames.move_to_end(name)
            kept = self._converted.get(name)
        if kept is not None and (kept[0] is None or (columns is not None and columns <= kept[0])):
            table = kept[1]
        else:
            table = to_arrow(frame, columns)
            with self._lock:
                self._converted[name] = (columns, table)
        table = table if columns is None else table.select([c for c in table.column_names if c in columns])
        return in_zone(table, local_tz)


registry = _Registry()


def _not_a_frame(data: Any) -> TypeError:
    return TypeError(f"vegalake: cannot read data of type {type(data).__name__} (expected a pandas, polars or pyarrow frame, or an Arrow stream)")


def to_arrow(data: Any, columns: frozenset[str] | None = None) -> pa.Table:
    """A frame as an Arrow table, with string column names and no index, keeping
    only ``columns`` (all when None).

    pandas NaN becomes null as Altair's default transformer makes it; categorical
    columns stay dictionary-encoded (the runtime reads them as strings).
    """
    module = type(data).__module__.split(".")[0]
    if module == "polars" and type(data).__name__ == "LazyFrame":
        # Collected here, with only the columns the spec mentions.
        names = data.collect_schema().names()
        data = data.select([c for c in names if columns is None or c in columns]).collect()
    if columns is not None and module in ("pandas", "polars") and hasattr(data, "columns"):
        data = data[[c for c in data.columns if str(c) in columns]]
    if isinstance(data, pa.Table):
        table = data
    elif isinstance(data, pa.RecordBatch):
        table = pa.Table.from_batches([data])
    elif module == "pandas":
        table = _from_pandas(data.rename(columns=str))
    elif module == "polars" and hasattr(data, "to_arrow"):
        table = data.to_arrow()
    elif hasattr(data, "__arrow_c_stream__"):
        table = pa.table(data)
    else:
        raise _not_a_frame(data)
    if any(not isinstance(n, str) for n in table.column_names):
        table = table.rename_columns([str(n) for n in table.column_names])
    if columns is not None:
        table = table.select([c for c in table.column_names if c in columns])
    return table


def _from_pandas(frame: Any) -> pa.Table:
    """A pandas frame as Arrow. A column of Python objects mixing types (a title
    that is sometimes a number) has no Arrow type: it is read as text, and a
    warning names it."""
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        pass
    frame = frame.copy(deep=False)
    for name in frame.columns:
        if frame[name].dtype != object:
            continue
        try:
            pa.array(frame[name], from_pandas=True)
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            kinds = sorted({type(v).__name__ for v in frame[name] if v is not None and v == v})
            log.warning("column %r mixes types (%s); vegalake reads it as text", name, ", ".join(kinds))
            frame[name] = frame[name].map(lambda v: v if v is None or v != v else str(v))
    return pa.Table.from_pandas(frame, preserve_index=False)


def in_zone(table: pa.Table, local_tz: str | None) -> pa.Table:
    """Naive datetime columns as instants in ``local_tz``.

    Altair's default transformer writes a naive datetime as an ISO string without
    an offset, which vega.js reads in the browser's local time zone; vegalake's
    local time zone is ``local_tz`` (UTC when not set), so the same wall time
    means the same instant. Ambiguous wall times (the hour repeated when clocks go
    back) take the first, as JavaScript's Date does.
    """
    if not local_tz or local_tz == "UTC":
        return table
    import pyarrow.compute as pc

    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is None:
            zoned = pc.assume_timezone(table.column(i), timezone=local_tz, ambiguous="earliest", nonexistent="latest")
            table = table.set_column(i, field.name, zoned)
    return table


def register_frame(data: Any) -> str:
    """Registers a frame and returns the URL a spec names it by."""
    module = type(data).__module__.split(".")[0]
    if not (module in ("pandas", "polars", "pyarrow") or hasattr(data, "__arrow_c_stream__")):
        raise _not_a_frame(data)
    return MEMORY_PREFIX + registry.add(data)


def memory_name(url: Any) -> str | None:
    """The table name in a ``vegalake+dataset://`` (or VegaFusion) URL."""
    if isinstance(url, str):
        for prefix in (MEMORY_PREFIX, VEGAFUSION_PREFIX):
            if url.startswith(prefix):
                return url[len(prefix) :]
    return None


def tables_of(
    vega_spec: dict, extra: dict[str, Any] | None = None, *, only_mentioned: bool = False, local_tz: str | None = None
) -> dict[str, tuple[str, pa.Table]]:
    """The in-memory tables a Vega spec names, from the registry and ``extra``
    (VegaFusion's ``inline_datasets``), as ``{name: (identity, table)}``.

    ``only_mentioned`` keeps only the columns the spec mentions (what a client
    spec can show); results of whole datasets keep every column. A registered
    frame's name is unique, so it is its identity; a frame given in ``extra`` gets
    an identity of its own, since the caller may reuse a name for other data.
    """
    import json

    from ._vegalake import mentioned_names

    extra = extra or {}
    names = [n for n in dict.fromkeys(memory_name(u) for u in _urls(vega_spec)) if n is not None]
    if not names:
        return {}
    found: dict[str, tuple[str, Any]] = {}
    for name in names:
        if (warehouse_table := _warehouse.registry.get(name)) is not None:
            found[name] = (warehouse_table.identity, warehouse_table)
    names = [n for n in names if n not in found]
    mentioned = mentioned_names(json.dumps(vega_spec)) if only_mentioned else None
    columns = None if mentioned is None else frozenset(mentioned)
    for name in names:
        if name in extra:
            found[name] = (f"{name}@{uuid.uuid4().hex}", in_zone(to_arrow(extra[name], columns), local_tz))
        elif (table := registry.table(name, columns, local_tz)) is not None:
            found[name] = (name, table)
    return found


def prepared(
    vega_spec: dict, extra: dict[str, Any] | None = None, *, only_mentioned: bool = False, local_tz: str | None = None
) -> tuple[dict, dict[str, tuple[str, pa.Table]]]:
    """A spec and the in-memory tables to evaluate it with (:func:`tables_of`),
    tables the runtime cannot read as Arrow given inline instead
    (:func:`inline_unevaluable`)."""
    tables = tables_of(vega_spec, extra, only_mentioned=only_mentioned, local_tz=local_tz)
    return inline_unevaluable(vega_spec, tables), tables


def _evaluable(t: pa.DataType) -> bool:
    """Types the runtime reads from Arrow (others, such as lists, it cannot)."""
    if pa.types.is_dictionary(t):
        return _evaluable(t.value_type)
    return (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_decimal(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_string_view(t)
        or pa.types.is_boolean(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_date(t)
        or pa.types.is_null(t)
    )


def inline_unevaluable(vega_spec: dict, tables: dict[str, tuple[str, pa.Table]]) -> dict:
    """The spec with each in-memory table that has columns the runtime cannot read
    as Arrow (lists, structs) given as JSON rows instead, as Altair's default
    transformer gives them: the JSON reader keeps such values as they are, so the
    chart gets what vega.js gets. Dates become epoch milliseconds (vega's parse
    reads them as dates)."""
    inline = {name for name, (_, table) in tables.items() if isinstance(table, pa.Table) and not all(_evaluable(f.type) for f in table.schema)}
    if not inline:
        return vega_spec
    import copy
    import datetime as dt
    import json

    def plain(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.timestamp() * 1000 if value.tzinfo else value.replace(tzinfo=dt.timezone.utc).timestamp() * 1000
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc).timestamp() * 1000
        raise TypeError(f"vegalake: cannot write {type(value).__name__} as JSON")

    spec = copy.deepcopy(vega_spec)

    def walk(node: dict) -> None:
        for d in node.get("data", []) or []:
            name = memory_name(d.get("url"))
            if name in inline:
                log.info("in-memory table %s has columns the runtime cannot read as Arrow; its rows go as JSON", name)
                d["values"] = json.loads(json.dumps(tables[name][1].to_pylist(), default=plain))
                del d["url"]
                d.setdefault("format", {})["type"] = "json"
        for m in node.get("marks", []) or []:
            walk(m)

    walk(spec)
    for name in inline:
        del tables[name]
    return spec


def _urls(node: Any):
    if isinstance(node, dict):
        for d in node.get("data", []) or []:
            if isinstance(d, dict) and "url" in d:
                yield d["url"]
        for m in node.get("marks", []) or []:
            yield from _urls(m)


@dataclass(frozen=True)
class LakeTable:
    """A lake table a chart reads: its URL, and the roots it makes readable."""

    url: str
    allow_root: str | None


class Proxies:
    """Empty Arrow tables handed to Altair that stand for a source (a lake table,
    a lazy frame, a warehouse table): Altair infers shorthand types from their
    schema, and the data transformer swaps each for its source. By id; each entry
    keeps its proxy alive, so ids stay unique."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[pa.Table, Any]] = {}
        self._lock = threading.Lock()

    def add(self, schema: pa.Schema, source: Any) -> pa.Table:
        """An empty table with ``schema`` that stands for ``source`` in a chart."""
        proxy = pa.Table.from_batches([], schema=schema)
        with self._lock:
            self._entries[id(proxy)] = (proxy, source)
        return proxy

    def source_of(self, data: Any) -> Any:
        """The source ``data`` stands for, if it is one of the proxies, else None."""
        with self._lock:
            entry = self._entries.get(id(data))
        return entry[1] if entry is not None and entry[0] is data else None

    def sources(self) -> list[Any]:
        with self._lock:
            return [source for _, source in self._entries.values()]


proxies = Proxies()


def lake_table_of(data: Any) -> LakeTable | None:
    """The lake table ``data`` stands for, if it is one of our proxies."""
    source = proxies.source_of(data)
    return source if isinstance(source, LakeTable) else None


def lake_roots() -> list[str]:
    """The roots of every lake table named so far: the user named them, so the
    runtime may read them."""
    return sorted({s.allow_root for s in proxies.sources() if isinstance(s, LakeTable) and s.allow_root})


def local_or_url(location: str | os.PathLike) -> tuple[str, str | None]:
    """A table location as a URL (local paths as absolute ``file://`` URLs) and the
    root that lets the runtime read it."""
    text = os.fspath(location)
    if "://" in text:
        return text, text
    path = os.path.abspath(text)
    return "file://" + path, path
