"""Comparing vegalake's tables with vega.js's rows, as the Rust suite does: rows as
multisets, a null field equal to a missing one, dates as epoch milliseconds,
NaN and infinities as strings, numbers within 1e-9 relative."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pyarrow as pa

REL = 1e-9


def plain(value: Any) -> Any:
    """A value as vega.js's harness prints it."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return round(value.timestamp() * 1000)
    if isinstance(value, dt.date):
        return round(dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc).timestamp() * 1000)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
    return value


def table_rows(table: pa.Table) -> list[dict]:
    return [{k: plain(v) for k, v in row.items() if v is not None} for row in table.to_pylist()]


def expected_rows(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if v is not None} for row in rows]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or abs(a - b) <= REL * max(abs(a), abs(b)) or abs(a - b) < 1e-12
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _same_row(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)


def _key(row: dict) -> tuple:
    # Sorts rows so equal rows meet; numbers rounded so float noise does not
    # reorder them.
    return tuple(sorted((k, f"{v:.6g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else repr(v)) for k, v in row.items()))


def difference(actual: list[dict], expected: list[dict]) -> str | None:
    """Why two lists of rows differ as multisets, or None when they are equal."""
    if len(actual) != len(expected):
        return f"{len(actual)} rows, vega.js has {len(expected)}; first rows: {actual[:2]} vs {expected[:2]}"
    a_sorted, e_sorted = sorted(actual, key=_key), sorted(expected, key=_key)
    if all(_same_row(a, e) for a, e in zip(a_sorted, e_sorted, strict=True)):
        return None
    # Sorting may pair rows differently when numbers are close: match greedily.
    unmatched = list(actual)
    for e in expected:
        hit = next((i for i, a in enumerate(unmatched) if _same_row(a, e)), None)
        if hit is None:
            return f"vega.js row {e} not among vegalake's (e.g. {unmatched[:1]})"
        unmatched.pop(hit)
    return None
