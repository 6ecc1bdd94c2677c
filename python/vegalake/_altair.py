"""Altair integration: the ``vegalake`` data transformer and renderer, and the
functions that take a chart (``to_vega``, ``transformed_data``, ``to_html``,
``save``, ``explain``).

The data transformer never limits input rows (no ``MaxRowsError``): a frame is
handed to the runtime as Arrow and only what the marks need reaches the browser.
The row limit (``vl.enable(row_limit=...)``) applies to that, per dataset.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from . import _html, _tables, _vegalake, _warehouse
from ._runtime import Runtime, convert_table
from ._vegalake import VegalakeError

log = logging.getLogger("vegalake")


class RowLimitError(VegalakeError):
    """A dataset that would reach the browser has more rows than the row limit."""


class _Settings:
    """What ``vl.enable`` set."""

    def __init__(self) -> None:
        self.runtime: Runtime | None = None
        self.row_limit: int | None = None
        self.local_tz: str | None = None


settings = _Settings()


def runtime() -> Runtime:
    """The runtime charts use: the one ``vl.enable`` made, else a local one."""
    if settings.runtime is None:
        settings.runtime = Runtime()
    return settings.runtime


def accept_lazy_sources() -> None:
    """Makes ``alt.Chart(data)`` accept the sources Altair drops with a warning (a
    Spark DataFrame, a polars LazyFrame): ``Chart`` hands them to
    :func:`vegalake.source` first. Called by ``vl.enable()``; done once."""
    import functools

    import altair as alt

    from . import source

    original = alt.Chart.__init__
    if getattr(original, "_vegalake", False):
        return

    @functools.wraps(original)
    def __init__(self: Any, data: Any = alt.Undefined, *args: Any, **kwargs: Any) -> None:
        if _warehouse.is_spark_frame(data) or (type(data).__module__.startswith("polars") and type(data).__name__ == "LazyFrame"):
            data = source(data)
        original(self, data, *args, **kwargs)

    __init__._vegalake = True  # type: ignore[attr-defined]
    alt.Chart.__init__ = __init__  # type: ignore[method-assign]


# -- the plugins Altair finds by entry point ----------------------------------------


def data_transformer(data: Any = None, **kwargs: Any) -> Any:
    """Altair's data transformer: frames and warehouse tables become
    ``vegalake+dataset://`` URLs, lake tables their URLs; anything else (dicts,
    geo data) goes Altair's default way."""
    if data is None:
        return data_transformer
    source = _tables.proxies.source_of(data)
    if source is None and _warehouse.is_warehouse_source(data):
        source = _warehouse.table_for(data)
    if isinstance(source, _tables.LakeTable):
        return {"url": source.url}
    if isinstance(source, _warehouse.WarehouseTable):
        return {"url": _tables.MEMORY_PREFIX + _warehouse.registry.add(source)}
    if source is not None:
        # A lazy frame (vl.source): registered as frames are.
        return {"url": _tables.register_frame(source)}
    if isinstance(data, dict) or hasattr(data, "__geo_interface__"):
        import altair as alt

        return alt.utils.data.to_values(data)
    return {"url": _tables.register_frame(data)}


def html_renderer(spec: dict, **metadata: Any) -> dict[str, str]:
    """Altair's renderer: the pre-transformed chart as self-contained HTML."""
    vega = _vega_of_vegalite(spec)
    client, warnings = _pre_transform(vega, preserve_interactivity=True)
    return {"text/html": _html.page(client, warnings)}


# -- compiling and evaluating ----------------------------------------------------------


def _vega_of_vegalite(spec: dict) -> dict:
    """A Vega-Lite spec compiled to Vega in this process, by the vega-lite build
    embedded in the extension (the one the browser client pins); its warnings go
    to the ``vegalake`` logger."""
    if "vega-lite" not in str(spec.get("$schema", "")):
        return spec
    vega, warnings = _vegalake.compile_vega_lite(json.dumps(spec))
    for w in warnings:
        log.warning("Vega-Lite: %s", w)
    return json.loads(vega)


def vegalite_of(chart: Any) -> dict:
    """A chart's Vega-Lite spec (a dict is taken as it is), its data named as
    vegalake tables."""
    import altair as alt

    if isinstance(chart, dict):
        return chart
    with alt.data_transformers.enable("vegalake"):
        return chart.to_dict(format="vega-lite", context={"pre_transform": False})


def _chart_to_vega(chart: Any) -> dict:
    """A chart's Vega spec, its data named as vegalake tables."""
    return _vega_of_vegalite(vegalite_of(chart))


# The most rows a standalone interactive spec may carry (VegaFusion's transformer
# allows 100,000 too): a crossfilter's brushed views recomputed in the browser need
# the raw rows of their columns, which for a 10M-row table is hundreds of MB.
BROWSER_ROWS = 100_000


def _browser_budget() -> int:
    """The rows a standalone spec may ship for the browser: the row limit, if set."""
    return settings.row_limit if settings.row_limit is not None else BROWSER_ROWS


def _pre_transform(vega: dict, preserve_interactivity: bool) -> tuple[dict, list[dict]]:
    """The client spec: interactive on its own when that ships few rows, else a
    snapshot of the current state with a warning naming what needs the kernel."""
    budget = settings.row_limit if settings.row_limit is not None else BROWSER_ROWS
    client, warnings = runtime().pre_transform_spec(vega, local_tz=settings.local_tz, preserve_interactivity=preserve_interactivity, browser_rows=budget)
    _check_row_limit(_shipped_rows(client))
    return client, warnings


def _shipped_rows(client: dict) -> dict[str, int]:
    """The rows each dataset of a client spec carries."""
    out: dict[str, int] = {}

    def walk(node: dict) -> None:
        for d in node.get("data", []) or []:
            if isinstance(d.get("values"), list):
                out[d["name"]] = len(d["values"])
        for m in node.get("marks", []) or []:
            walk(m)

    walk(client)
    return out


def _check_row_limit(rows: dict[str, int]) -> None:
    limit = settings.row_limit
    for name, count in rows.items():
        if limit is not None and count > limit:
            raise RowLimitError(
                f"dataset '{name}' would send {count} rows to the browser, over the row limit of {limit} "
                "(raise it with vl.enable(row_limit=...), or aggregate the chart)"
            )


def to_vega(chart: Any, preserve_interactivity: bool = True) -> tuple[dict, list[dict]]:
    """The pre-transformed client Vega spec of a chart, and warnings.

    The server half runs on the runtime's engine; the client spec keeps only what
    the browser must still do, with the server's results inlined.
    """
    return _pre_transform(_chart_to_vega(chart), preserve_interactivity)


def transformed_data(chart: Any, row_limit: int | None = None, exclude: Iterable[str] | None = None) -> Any:
    """What Altair's ``transformed_data`` returns, computed by vegalake: the data
    of each view after its transforms, in the input's own frame library (a list
    for layered and concatenated charts)."""
    import altair as alt

    library = _frame_library(chart)
    frames = [convert_table(t, library) for t in transformed_tables(chart, row_limit, exclude)]
    if isinstance(chart, (alt.Chart, alt.FacetChart)):
        return frames[0] if frames else None
    return frames


def transformed_tables(chart: Any, row_limit: int | None = None, exclude: Iterable[str] | None = None) -> list[pa.Table]:
    """The data of each view of a chart after its transforms, as pyarrow tables,
    in the order of Altair's ``transformed_data``."""
    import altair as alt
    from altair.utils._transformed_data import get_datasets_for_view_names, get_facet_mapping, name_views

    if isinstance(chart, alt.Chart) and chart.mark is alt.Undefined:
        chart = chart.mark_point()
    chart = chart.copy(deep=True)
    names = name_views(chart, 0, exclude=exclude)
    vega = _chart_to_vega(chart)
    mapping = get_datasets_for_view_names(vega, names, get_facet_mapping(vega))
    missing = [n for n in names if n not in mapping]
    if missing:
        raise VegalakeError(f"vegalake: no dataset feeds the view(s) {', '.join(missing)}")
    tables, _ = runtime().pre_transform_datasets(vega, [mapping[n] for n in names], local_tz=settings.local_tz, row_limit=row_limit)
    return tables


def _frame_library(chart: Any) -> str:
    """The frame library of the chart's (first) data: results come back in it."""
    seen = [chart]
    while seen:
        c = seen.pop(0)
        data = getattr(c, "data", None)
        module = type(data).__module__.split(".")[0]
        if module in ("pandas", "polars"):
            return module
        if module == "pyarrow" and _tables.lake_table_of(data) is None:
            return "pyarrow"
        for attr in ("layer", "hconcat", "vconcat", "concat"):
            seen.extend(getattr(c, attr, None) or [])
        if getattr(c, "spec", None) is not None and not isinstance(c.spec, (str, dict)):
            seen.append(c.spec)
    return "pandas" if _has("pandas") else "pyarrow"


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def to_html(chart: Any) -> str:
    """The chart as one self-contained HTML page (vega and vega-embed inlined, no
    network), its data pre-transformed."""
    client, warnings = to_vega(chart)
    return _html.page(client, warnings)


IMAGE_FORMATS = ("svg", "png", "pdf")


def save(chart: Any, path: str | os.PathLike, *, scale: float = 1.0) -> None:
    """Writes the chart, in the format its name ends with: ``.html`` (a
    self-contained page), ``.vg.json`` / ``.json`` (the pre-transformed Vega
    spec), or ``.svg``, ``.png`` (``scale`` pixels per unit) and ``.pdf`` images,
    drawn in the process by the embedded vega.js (no browser; text in the
    Liberation fonts). An image is a snapshot: all its data runs on the server."""
    target = os.fspath(path)
    extension = target.rsplit(".", 1)[-1].lower()
    if extension == "html":
        content: str | bytes = to_html(chart)
    elif extension == "json":
        content = json.dumps(to_vega(chart)[0], indent=2)
    elif extension in IMAGE_FORMATS:
        content = image(chart, extension, scale=scale)
    else:
        raise ValueError(f"vegalake: cannot save as {os.path.basename(target)!r}: use .html, .vg.json, .svg, .png or .pdf")
    mode, encoding = ("wb", None) if isinstance(content, bytes) else ("w", "utf-8")
    with open(target, mode, encoding=encoding) as f:
        f.write(content)


def image(chart: Any, format: str = "png", *, scale: float = 1.0) -> bytes:
    """The chart drawn as ``svg``, ``png`` or ``pdf`` bytes (see :func:`save`)."""
    if format not in IMAGE_FORMATS:
        raise ValueError(f"vegalake: unknown image format {format!r} (svg, png or pdf)")
    client, _ = to_vega(chart, preserve_interactivity=False)
    return _vegalake.render(json.dumps(client), format, scale)


def explain(chart: Any) -> list[dict]:
    """Per dataset of the chart as ``to_vega`` ships it: the engine, where it runs
    (the server, the client, or the server up to a transform and the browser from
    there) and why, the plan its server part ran, what its queries scanned of the
    tables it reads (files, row groups, bytes), and the rows and JSON bytes it
    ships. Nothing beyond what the chart ships is computed."""
    rt = runtime()
    vega = _chart_to_vega(chart)
    state = rt.open_chart(vega, local_tz=settings.local_tz, browser_rows=_browser_budget())
    # A dataset over a warehouse table runs on its connection, whatever the runtime's engine.
    warehouses = ", ".join(sorted({t.connection.label for t in _warehouse.tables_in(vega)}))
    shipped = _shipped_values(state.get_client_spec())
    scans = {(s["dataset"], tuple(s["scope"])): s["summary"] for s in state.get_scans()}
    out = []
    for d in state.get_datasets():
        done, total = d["server_transforms"], d["total_transforms"]
        where = "client" if done is None else "server" if done == total else f"server for {done} of {total} transforms, then the browser"
        engine = warehouses if warehouses and _warehouse.SCAN_PREFIX in (d["plan"] or "") else rt.engine
        entry: dict[str, Any] = {"dataset": d["dataset"], "engine": engine, "where": where}
        for key in ("reason", "plan"):
            if d[key]:
                entry[key] = d[key]
        if (summary := scans.get((d["dataset"], tuple(d["scope"])))) is not None:
            entry["scanned"] = summary
        if (values := shipped.get((d["dataset"], tuple(d["scope"])))) is not None:
            entry["rows"], entry["bytes"] = len(values), len(json.dumps(values))
        out.append(entry)
    return out


def _shipped_values(client: dict) -> dict[tuple[str, tuple[int, ...]], list]:
    """The inline rows of a client spec by (dataset, group scope)."""
    out: dict[tuple[str, tuple[int, ...]], list] = {}

    def walk(node: dict, scope: tuple[int, ...]) -> None:
        for d in node.get("data", []) or []:
            if isinstance(d.get("values"), list):
                out[(d["name"], scope)] = d["values"]
        groups = [m for m in node.get("marks", []) or [] if m.get("type") == "group"]
        for i, m in enumerate(groups):
            walk(m, (*scope, i))

    walk(client, ())
    return out
