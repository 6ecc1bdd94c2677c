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
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

log = logging.getLogger("vegalake")

MEMORY_PREFIX = "vegalake+dataset://"
VEGAFUSION_PREFIX = "vegafusion+dataset://"

# How many converted frames stay registered. A spec names its frames until it is
# evaluated; Altair's renderer and `to_vega` evaluate right after `to_dict`, so a
# few suffice, and holding more would pin users' frames (GBs) in memory.
_KEEP_TABLES = 16


class _Registry:
    """In-memory tables by name, the most recently used kept."""

    def __init__(self) -> None:
        self._tables: OrderedDict[str, pa.Table] = OrderedDict()
        self._lock = threading.Lock()
        self._counter = itertools.count()

    def add(self, table: pa.Table) -> str:
        with self._lock:
            name = f"table_{os.getpid()}_{next(self._counter)}"
            self._tables[name] = table
            while len(self._tables) > _KEEP_TABLES:
                self._tables.popitem(last=False)
            return name

    def get(self, name: str) -> pa.Table | None:
        with self._lock:
            table = self._tables.get(name)
            if table is not None:
                self._tables.move_to_end(name)
            return table


registry = _Registry()


def to_arrow(data: Any) -> pa.Table:
    """A frame as an Arrow table, with string column names and no index.

    pandas NaN becomes null as Altair's default transformer makes it; categorical
    columns stay dictionary-encoded (the runtime reads them as strings).
    """
    module = type(data).__module__.split(".")[0]
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
        raise TypeError(f"vegalake: cannot read data of type {type(data).__name__} (expected a pandas, polars or pyarrow frame, or an Arrow stream)")
    if any(not isinstance(n, str) for n in table.column_names):
        table = table.rename_columns([str(n) for n in table.column_names])
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


def register_frame(data: Any) -> str:
    """Registers a frame and returns the URL a spec names it by."""
    return MEMORY_PREFIX + registry.add(to_arrow(data))


def memory_name(url: Any) -> str | None:
    """The table name in a ``vegalake+dataset://`` (or VegaFusion) URL."""
    if isinstance(url, str):
        for prefix in (MEMORY_PREFIX, VEGAFUSION_PREFIX):
            if url.startswith(prefix):
                return url[len(prefix):]
    return None


def tables_of(vega_spec: dict, extra: dict[str, Any] | None = None) -> dict[str, pa.Table]:
    """The in-memory tables a Vega spec names, from the registry and ``extra``
    (VegaFusion's ``inline_datasets``)."""
    extra = extra or {}
    found: dict[str, pa.Table] = {}
    for url in _urls(vega_spec):
        name = memory_name(url)
        if name is None or name in found:
            continue
        if name in extra:
            found[name] = to_arrow(extra[name])
        elif (table := registry.get(name)) is not None:
            found[name] = table
    return found


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


# Proxies handed to Altair, by id; each keeps its proxy alive so ids stay unique.
_lake_proxies: dict[int, tuple[pa.Table, LakeTable]] = {}
_lake_lock = threading.Lock()


def lake_proxy(schema: pa.Schema, table: LakeTable) -> pa.Table:
    """An empty table with ``schema`` that stands for ``table`` in a chart."""
    proxy = pa.Table.from_batches([], schema=schema)
    with _lake_lock:
        _lake_proxies[id(proxy)] = (proxy, table)
    return proxy


def lake_table_of(data: Any) -> LakeTable | None:
    """The lake table ``data`` stands for, if it is one of our proxies."""
    with _lake_lock:
        entry = _lake_proxies.get(id(data))
    return entry[1] if entry is not None and entry[0] is data else None


def lake_roots() -> list[str]:
    """The roots of every lake table named so far: the user named them, so the
    runtime may read them."""
    with _lake_lock:
        return sorted({t.allow_root for _, t in _lake_proxies.values() if t.allow_root})


def local_or_url(location: str | os.PathLike) -> tuple[str, str | None]:
    """A table location as a URL (local paths as absolute ``file://`` URLs) and the
    root that lets the runtime read it."""
    text = os.fspath(location)
    if "://" in text:
        return text, text
    path = os.path.abspath(text)
    return "file://" + path, path
