"""The runtime: where a chart's server half is evaluated, and its cache.

`Runtime` offers VegaFusion's methods with VegaFusion's signatures and return
shapes (``pre_transform_spec``, ``pre_transform_datasets``,
``pre_transform_extract``, ``new_chart_state``), so code written for VegaFusion
switches by changing the import; specs naming ``vegafusion+dataset://`` tables run
unchanged.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa

from . import _tables
from ._remote import RemoteEngine, is_remote
from ._vegalake import ChartState as _ChartState
from ._vegalake import Runtime as _Runtime

log = logging.getLogger("vegalake")


class ChartState:
    """A chart served over time: its client spec, and updates from the client.

    ``update`` takes what the client changed (a brush's signal, a selection
    store) and returns the server datasets and signals whose values changed, in
    VegaFusion's shape: ``[{"namespace", "name", "scope", "value"}]``.
    """

    def __init__(self, inner: _ChartState) -> None:
        self._inner = inner

    def update(self, client_updates: list[dict]) -> list[dict]:
        """Applies client changes; returns the server values that changed."""
        return json.loads(self._inner.update(json.dumps(client_updates)))

    def get_client_spec(self) -> dict:
        """The client spec, with the server's results inlined."""
        return json.loads(self._inner.client_spec())

    def get_server_spec(self) -> dict:
        """The server half of the spec."""
        return json.loads(self._inner.server_spec())

    def get_comm_plan(self) -> dict:
        """Which values go from client to server and back (``client_to_server``,
        ``server_to_client``)."""
        return json.loads(self._inner.comm_plan())

    def get_datasets(self) -> list[dict]:
        """Where each dataset runs (``server_transforms`` of ``total_transforms``;
        None: the client), why the client takes over, and the server part's plan."""
        return json.loads(self._inner.datasets())

    def get_scans(self) -> list[dict]:
        """What the datasets' queries scanned of the tables they read."""
        return json.loads(self._inner.scans())

    def get_warnings(self) -> list[dict]:
        """Warnings of the pre-transformed spec (``[{"type", "message"}]``)."""
        return _warnings(self._inner.warnings())

    def close(self) -> None:
        """Lets the chart go: on a ``grpc://`` server, closes its session there
        (a local chart's state goes with this object)."""
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


def _warnings(text: str) -> list[dict]:
    return [{"type": w["kind"], "message": w["message"]} for w in json.loads(text)]


class Runtime:
    """Evaluates charts' server halves on an engine, sharing one cache.

    Parameters
    ----------
    engine:
        ``"local"`` (embedded DataFusion, the default), ``"ballista://HOST:PORT"``
        (a vegalake scheduler), ``"spark://HOST:PORT"`` (a Spark Connect server),
        or ``"grpc://HOST:PORT"`` (``grpcs://`` over TLS): a ``vegalake serve``
        that evaluates whole charts over its own data roots and catalog, for
        charts over lake URLs and tables it can read (not in-memory frames), as
        client specs and chart sessions.
    catalog:
        A ``vegalake.toml`` naming tables (``vl.table(name)``), store options and
        roots charts may read.
    data_dir:
        Where relative data URLs resolve (default: the working directory); charts
        read nothing outside it, the catalog's roots and ``allow_roots``.
    allow_roots:
        More store URLs or directories charts may read.
    cache_bytes:
        The bound of the result cache (default 512 MiB).
    memory_limit:
        Bytes the embedded engine's queries may hold together (default: no
        limit). Sorts, joins and aggregates spill to disk before it; a query that
        still needs more raises ``MemoryLimitError``. Remote engines keep their own.
    timeout:
        Seconds after which a query is cancelled on the engine.
    token:
        The bearer token of a ``grpc://`` server.
    tls_ca:
        A PEM file of the certificate authority a ``grpcs://`` server's
        certificate is signed by, when it is not one the system trusts (a team's
        own authority, a self-signed certificate).
    """

    def __init__(
        self,
        engine: str = "local",
        *,
        catalog: str | os.PathLike | None = None,
        data_dir: str | os.PathLike | None = None,
        allow_roots: Iterable[str] = (),
        cache_bytes: int | None = None,
        memory_limit: int | None = None,
        timeout: float | None = None,
        token: str | None = None,
        tls_ca: str | os.PathLike | None = None,
    ) -> None:
        if is_remote(engine):
            if catalog is not None or data_dir is not None or allow_roots or memory_limit is not None:
                raise ValueError("catalog, data_dir, allow_roots and memory_limit are the server's own with a grpc:// engine")
            self._inner: Any = RemoteEngine(engine, token, tls_ca)
        else:
            if tls_ca is not None:
                raise ValueError("tls_ca is for a grpcs:// engine")
            self._inner = _Runtime(engine, cache_bytes, timeout, memory_limit)
        self.catalog = os.fspath(catalog) if catalog is not None else None
        self.data_dir = os.fspath(data_dir) if data_dir is not None else None
        self.allow_roots = list(allow_roots)

    @property
    def engine(self) -> str:
        return self._inner.engine

    def __repr__(self) -> str:
        return f"vegalake.Runtime(engine={self.engine!r})"

    # -- options ---------------------------------------------------------------

    def _options(self, *, local_tz: str | None = None, row_limit: int | None = None, interactivity: str = "browser", browser_rows: int | None = None) -> str:
        return json.dumps(
            {
                "data_dir": self.data_dir,
                "catalog": self.catalog,
                "allow_roots": self.allow_roots + _tables.lake_roots(),
                "timezone": local_tz or "UTC",
                "row_limit": row_limit,
                "interactivity": interactivity,
                "browser_rows": browser_rows,
            }
        )

    # -- VegaFusion-compatible methods -------------------------------------------

    def pre_transform_spec(
        self,
        spec: dict | str,
        local_tz: str | None = None,
        default_input_tz: str | None = None,
        row_limit: int | None = None,
        preserve_interactivity: bool = True,
        inline_datasets: dict[str, Any] | None = None,
        keep_signals: Any = None,
        keep_datasets: Any = None,
        *,
        browser_rows: int | None = None,
    ) -> tuple[dict, list[dict]]:
        """The client spec with the server's results inlined, and warnings
        (``[{"type", "message"}]``).

        With ``preserve_interactivity`` (the default) the spec works on its own:
        each pipeline runs on the server up to its first transform that reads a
        selection or a bound signal, and in the browser from there; when those
        pipelines would ship more than ``browser_rows`` rows, the spec is a
        snapshot instead, with an ``interactions_need_kernel`` warning. Without
        ``preserve_interactivity``, the spec is a snapshot of the current state.
        """
        spec = _as_dict(spec)
        interactivity = "browser" if preserve_interactivity else "static"
        options = self._options(local_tz=local_tz, row_limit=row_limit, interactivity=interactivity, browser_rows=browser_rows)
        spec, tables = _tables.prepared(spec, inline_datasets, only_mentioned=True, local_tz=local_tz)
        client, warnings = self._inner.pre_transform_spec(json.dumps(spec), options, tables)
        return json.loads(client), _warnings(warnings)

    def pre_transform_datasets(
        self,
        spec: dict | str,
        datasets: Sequence[str | tuple[str, Sequence[int]] | list],
        local_tz: str | None = None,
        default_input_tz: str | None = None,
        row_limit: int | None = None,
        inline_datasets: dict[str, Any] | None = None,
        trim_unused_columns: bool = False,
        dataset_format: str = "pyarrow",
    ) -> tuple[list[Any], list[dict]]:
        """The named datasets (``name`` or ``(name, scope)``), evaluated entirely on
        the server, and warnings. Tables are pyarrow (``dataset_format="pyarrow"``),
        pandas or polars."""
        spec = _as_dict(spec)
        names = [(d, []) if isinstance(d, str) else (d[0], list(d[1])) for d in datasets]
        spec, frames = _tables.prepared(spec, inline_datasets, local_tz=local_tz)
        tables = self._inner.pre_transform_datasets(json.dumps(spec), names, self._options(local_tz=local_tz), frames)
        warnings = []
        if row_limit is not None:
            for (name, _), table in zip(names, tables, strict=True):
                if table.num_rows > row_limit:
                    warnings.append({"type": "RowLimitExceeded", "message": f"{name} has {table.num_rows} rows; only the first {row_limit} are returned"})
            tables = [t.slice(0, row_limit) for t in tables]
        return [convert_table(t, dataset_format) for t in tables], warnings

    def pre_transform_extract(
        self,
        spec: dict | str,
        local_tz: str | None = None,
        default_input_tz: str | None = None,
        preserve_interactivity: bool = True,
        extract_threshold: int = 20,
        extracted_format: str = "pyarrow",
        inline_datasets: dict[str, Any] | None = None,
        keep_signals: Any = None,
        keep_datasets: Any = None,
    ) -> tuple[dict, list[tuple[str, list[int], Any]], list[dict]]:
        """The client spec with datasets of more than ``extract_threshold`` rows
        taken out as tables: ``(spec, [(name, scope, table)], warnings)``."""
        client, warnings = self.pre_transform_spec(spec, local_tz, preserve_interactivity=preserve_interactivity, inline_datasets=inline_datasets)
        extracted: list[tuple[str, list[int], Any]] = []

        def walk(node: dict, scope: list[int]) -> None:
            for d in node.get("data", []) or []:
                values = d.get("values")
                if isinstance(values, list) and len(values) > extract_threshold:
                    extracted.append((d["name"], scope, convert_table(pa.Table.from_pylist(values), extracted_format)))
                    del d["values"]
            groups = [m for m in node.get("marks", []) or [] if m.get("type") == "group"]
            for i, m in enumerate(groups):
                walk(m, scope + [i])

        walk(client, [])
        return client, extracted, warnings

    def new_chart_state(
        self,
        spec: dict | str,
        local_tz: str | None = None,
        default_input_tz: str | None = None,
        row_limit: int | None = None,
        inline_datasets: dict[str, Any] | None = None,
    ) -> ChartState:
        """Opens a chart whose interactions the server answers (``update``)."""
        spec = _as_dict(spec)
        options = self._options(local_tz=local_tz, row_limit=row_limit, interactivity="server")
        spec, tables = _tables.prepared(spec, inline_datasets, only_mentioned=True, local_tz=local_tz)
        inner = self._inner.open_chart(json.dumps(spec), options, tables)
        return ChartState(inner)

    # -- vegalake's own -------------------------------------------------------------

    def open_chart(self, spec: dict | str, *, local_tz: str | None = None, interactivity: str = "browser", browser_rows: int | None = None) -> ChartState:
        """Opens a chart as ``interactivity`` says: ``"browser"`` (the client spec
        works alone, within ``browser_rows``), ``"server"`` (``update`` answers the
        client) or ``"static"``."""
        spec = _as_dict(spec)
        options = self._options(local_tz=local_tz, interactivity=interactivity, browser_rows=browser_rows)
        spec, tables = _tables.prepared(spec, only_mentioned=True, local_tz=local_tz)
        return ChartState(self._inner.open_chart(json.dumps(spec), options, tables))

    def evaluate(self, spec: dict | str, local_tz: str | None = None, inline_datasets: dict[str, Any] | None = None) -> dict:
        """Every top-level dataset and signal, as ``vegalake eval`` prints them
        (``{"datasets", "signals", "unsupported", "explain"}``)."""
        spec = _as_dict(spec)
        spec, tables = _tables.prepared(spec, inline_datasets, local_tz=local_tz)
        text = self._inner.evaluate(json.dumps(spec), self._options(local_tz=local_tz), tables)
        return json.loads(text)

    def source_schema(self, url: str, allow_root: str | None = None) -> pa.Schema:
        """The columns a data URL gives charts, read from the table's metadata
        (``allow_root``: a root to read besides the runtime's)."""
        options = json.loads(self._options())
        options["allow_roots"] += [allow_root] if allow_root else []
        return self._inner.source_schema(url, json.dumps(options))

    def cache_stats(self) -> dict:
        """The cache's entries, bytes, hits and misses."""
        return json.loads(self._inner.cache_stats())


def _as_dict(spec: dict | str) -> dict:
    return json.loads(spec) if isinstance(spec, str) else spec


def convert_table(table: pa.Table, library: str) -> Any:
    """A pyarrow table in ``library``'s frame type (``pyarrow``, ``pandas``, ``polars``)."""
    if library in ("pyarrow", "arrow-ipc"):
        return table
    if library == "pandas":
        return table.to_pandas()
    if library == "polars":
        import polars as pl

        return pl.from_arrow(table)
    raise ValueError(f"unknown frame library {library!r} (pyarrow, pandas or polars)")
