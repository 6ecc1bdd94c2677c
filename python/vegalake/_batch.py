"""One chart per key of a table, from one template: ``vl.batch``.

The same code as ``vegalake batch``: the template is evaluated once for every key
(one query per dataset on the runtime's engine, never one per key), each key's
chart equals the template drawn from that key's rows alone, and the charts are
drawn by the renderer embedded in the extension.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from . import _altair, _tables

FORMATS = ("vega", "svg", "png", "pdf")


def batch(
    chart: Any,
    source: Any = None,
    *,
    by: str | Iterable[str],
    where: str | None = None,
    formats: Iterable[str] = ("vega", "png"),
    out: str | os.PathLike | None = None,
    table: str | None = None,
    scale: float = 1.0,
    row_limit: int | None = None,
    max_failures: int | None = None,
    resume: bool = False,
    dataset: str | None = None,
) -> Any:
    """Draws one chart per distinct value of ``by`` and returns the manifest.

    Parameters
    ----------
    chart:
        The template: an Altair chart, or a Vega-Lite or Vega spec (a dict).
    source:
        The data, replacing the template's: a URL or path (a file, Parquet dataset,
        ``delta+`` table, ``table:NAME`` of the catalog), a lake table
        (``vl.parquet``, ``vl.delta``, ``vl.table``) or a frame. ``None``: the
        chart's own data.
    by:
        The key column(s).
    where:
        A Vega expression the source rows must satisfy (``"datum.year >= 2020"``).
    formats:
        Of each chart: ``vega`` (the spec, its data inlined), ``svg``, ``png``, ``pdf``.
    out:
        The directory of the charts, ``manifest.jsonl``, ``errors.jsonl`` and an
        ``index.html`` gallery.
    table:
        A Delta table (``delta+URL`` or a path) whose rows become the charts: key
        columns, ``chart_id``, ``status``, ``error``, ``fingerprint``, and one
        column per format.
    scale:
        Pixels per unit of PNGs.
    row_limit:
        A chart holding more data rows than this fails (the others go on).
    max_failures:
        Stop once more charts than this have failed.
    resume:
        Keep the charts a previous run into ``out`` finished with the same
        fingerprint (spec, formats, renderer and font versions).
    dataset:
        The template's dataset that reads the source (default: its one with a URL).

    Returns
    -------
    The manifest, one row per chart (pandas when installed, else pyarrow): the key
    columns, ``id``, ``status`` (``ok`` or ``failed``), ``error``, ``fingerprint``,
    ``files``, ``rows`` (data rows the chart holds) and ``source_rows``.
    """
    keys = [by] if isinstance(by, str) else list(by)
    formats = list(formats)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"vegalake: unknown format(s) {unknown} (vega, svg, png or pdf)")
    vega = _template_vega(chart)
    options = {
        "by": keys,
        "source": _source_url(source, vega, dataset),
        "dataset": dataset,
        "where": where,
        "formats": formats,
        "out": os.path.abspath(os.fspath(out)) if out is not None else None,
        "table": table,
        "scale": scale,
        "row_limit": row_limit,
        "max_failures": max_failures,
        "resume": resume,
    }
    rt = _altair.runtime()
    spec, tables = _tables.prepared(vega, local_tz=_altair.settings.local_tz)
    run_options = rt._options(local_tz=_altair.settings.local_tz, interactivity="static")
    result = json.loads(rt._inner.batch(json.dumps(spec), run_options, tables, json.dumps(options)))
    return _manifest(result["charts"], keys)


def _template_vega(chart: Any) -> dict:
    """The template as Vega, its data named as vegalake tables."""
    if isinstance(chart, dict) and "vega-lite" not in str(chart.get("$schema", "")) and "marks" in chart:
        return chart
    return _altair._chart_to_vega(chart)


def _source_url(source: Any, vega: dict, dataset: str | None) -> str | None:
    """The URL the source is read from. A frame becomes an in-memory table that the
    template's source dataset names (so the spec carries it to the runtime)."""
    if source is None:
        return None
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        return text if text.startswith(("delta+", "table:")) else _tables.local_or_url(text)[0]
    if (lake := _tables.lake_table_of(source)) is not None:
        return lake.url
    with_url = [d for d in vega.get("data", []) if "url" in d and (dataset is None or d.get("name") == dataset)]
    if len(with_url) != 1:
        raise ValueError("vegalake: the template needs exactly one dataset with a URL to read the frame from (or name it: dataset=)")
    with_url[0]["url"] = _tables.MEMORY_PREFIX + _tables.registry.add(source)
    with_url[0].pop("format", None)
    return None


def _manifest(charts: list[dict], keys: list[str]) -> Any:
    rows = [
        {**{k: c["key"].get(k) for k in keys}, **{f: c[f] for f in ("id", "status", "error", "fingerprint", "files", "rows", "source_rows")}} for c in charts
    ]
    try:
        import pandas as pd
    except ImportError:
        return pa.Table.from_pylist(rows)
    return pd.DataFrame(rows, columns=[*keys, "id", "status", "error", "fingerprint", "files", "rows", "source_rows"])
