"""Altair charts over 10M rows: vegalake against VegaFusion, side by side.

    python bench_altair.py DIR [--rows N] [--runs K]

Writes a flights-like table of N rows (default 10M) to DIR as Parquet and as a
Delta table once, then times, in a fresh process per run (cold: nothing cached,
the frame already in memory for in-memory cases), the pre-transformed spec of a
histogram, a timeunit chart and a 3-view crossfilter:

- vegalake over the pandas frame, the Parquet file (vl.parquet) and the Delta
  table (vl.delta);
- VegaFusion over the pandas frame, and over the file and the table read into
  pandas first (VegaFusion takes eager frames only: that is what its users do).

It prints the median seconds, and the bytes and rows of the spec that reaches
the browser (the data the renderer ships, without the JavaScript libraries).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHARTS = ("histogram", "timeunit", "crossfilter")
SOURCES = ("pandas", "parquet", "delta")


def write_data(directory: Path, rows: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    from deltalake import write_deltalake

    parquet = directory / "flights.parquet"
    if parquet.exists():
        return
    rng = np.random.default_rng(0)
    start = np.datetime64("2024-01-01T00:00:00", "ms").astype("int64")
    table = pa.table(
        {
            "date": pa.array(start + rng.integers(0, 365 * 86_400_000, rows), pa.timestamp("ms", tz="UTC")),
            "delay": rng.normal(10, 30, rows).round(),
            "distance": rng.gamma(2.0, 400.0, rows).round(),
            "time": rng.uniform(0, 24, rows).round(2),
        }
    )
    pq.write_table(table, parquet, row_group_size=1_000_000)
    write_deltalake(str(directory / "flights_delta"), table)


def chart(name: str, source):
    import altair as alt

    if name == "histogram":
        return alt.Chart(source).mark_bar().encode(alt.X("delay:Q", bin=alt.Bin(maxbins=50)), y="count()")
    if name == "timeunit":
        return alt.Chart(source).mark_line().encode(x="yearmonth(date):T", y="mean(delay):Q")
    brush = alt.selection_interval(encodings=["x"])

    def view(field: str):
        base = alt.Chart(source).mark_bar().encode(alt.X(f"{field}:Q", bin=alt.Bin(maxbins=20)), y="count()")
        return base.encode(color=alt.value("#ddd")).add_params(brush) + base.transform_filter(brush)

    return view("distance") | view("delay") | view("time")


def run_one(system: str, chart_name: str, source: str, directory: Path) -> dict:
    """One cold measurement, in this process."""
    import pandas as pd

    parquet, delta = directory / "flights.parquet", directory / "flights_delta"
    frame = pd.read_parquet(parquet) if source == "pandas" else None
    start = time.perf_counter()
    if system == "vegalake":
        import vegalake as vl

        vl.enable()
        data = {"pandas": lambda: frame, "parquet": lambda: vl.parquet(parquet), "delta": lambda: vl.delta(delta)}[source]()
        spec, _ = vl.to_vega(chart(chart_name, data))
    else:
        import altair as alt

        alt.data_transformers.enable("vegafusion")
        if source == "parquet":
            frame = pd.read_parquet(parquet)
        elif source == "delta":
            from deltalake import DeltaTable

            frame = DeltaTable(str(delta)).to_pandas()
        spec = chart(chart_name, frame).to_dict(format="vega")
    seconds = time.perf_counter() - start
    text = json.dumps(spec)
    rows = sum(len(d["values"]) for d in spec.get("data", []) if isinstance(d.get("values"), list))
    return {"seconds": seconds, "bytes": len(text.encode()), "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", type=Path)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one", nargs=3, metavar=("SYSTEM", "CHART", "SOURCE"))
    args = parser.parse_args()
    args.directory.mkdir(parents=True, exist_ok=True)
    if args.one:
        print(json.dumps(run_one(*args.one, args.directory)))
        return 0
    write_data(args.directory, args.rows)
    print(f"{args.rows:,} rows; median of {args.runs} cold processes; bytes: the pre-transformed spec")
    print(
        f"{'chart':<12} {'source':<8} {'vegalake s':>11} {'VegaFusion s':>13} {'ratio':>6} {'vegalake B':>11} {'VegaFusion B':>13} {'rows':>8} {'VF rows':>8}"
    )
    status = 0
    for name in CHARTS:
        for source in SOURCES:
            cells = []
            for system in ("vegalake", "vegafusion"):
                runs, failure = measure(system, name, source, args)
                status |= failure is not None and system == "vegalake"
                cells.append((runs, failure))
            print(row(name, source, cells))
            for (_, failure), system in zip(cells, ("vegalake", "VegaFusion"), strict=True):
                if failure:
                    print(f"  {system} failed: {failure}")
    return status


def measure(system: str, name: str, source: str, args: argparse.Namespace) -> tuple[list[dict], str | None]:
    """The runs of one case, each a cold process, or why it failed."""
    runs = []
    for _ in range(args.runs):
        out = subprocess.run([sys.executable, __file__, str(args.directory), "--one", system, name, source], capture_output=True, text=True)
        if out.returncode < 0 or out.returncode == 137:
            return runs, f"killed by signal {abs(out.returncode) if out.returncode < 0 else 9} (the kernel's out-of-memory killer, on this machine)"
        if out.returncode != 0:
            lines = [line for line in out.stderr.strip().splitlines() if not line.startswith(" ")]
            return runs, (lines or ["no output"])[-1][:200]
        runs.append(json.loads(out.stdout))
    return runs, None


def row(name: str, source: str, cells: list[tuple[list[dict], str | None]]) -> str:
    """One line of the table: a system that failed shows dashes."""
    (vl, vl_failed), (vf, vf_failed) = cells
    vl_s = statistics.median(r["seconds"] for r in vl) if not vl_failed else None
    vf_s = statistics.median(r["seconds"] for r in vf) if not vf_failed else None

    def num(x: float | int | None, width: int, fmt: str) -> str:
        return f"{'-':>{width}}" if x is None else f"{x:>{width}{fmt}}"

    ratio = vl_s / vf_s if vl_s is not None and vf_s is not None else None

    def first(runs: list[dict], failed: str | None, key: str) -> int | None:
        return None if failed else runs[0][key]

    return (
        f"{name:<12} {source:<8} {num(vl_s, 11, '.2f')} {num(vf_s, 13, '.2f')} {num(ratio, 6, '.2f')} "
        f"{num(first(vl, vl_failed, 'bytes'), 11, ',')} {num(first(vf, vf_failed, 'bytes'), 13, ',')} "
        f"{num(first(vl, vl_failed, 'rows'), 8, ',')} {num(first(vf, vf_failed, 'rows'), 8, ',')}"
    )


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    sys.exit(main())
