"""W1, the 3-view crossfilter: open time and brush latency, vegalake against
VegaFusion's chart state, DuckDB's hand-written SQL and a Mosaic-style
pre-aggregated table in DuckDB, in one run.

    python bench_brush.py DIR [--brushes N] [--systems vegalake,vegafusion,duckdb,mosaic]

Reads DIR/flights.parquet (written as bench_altair.py writes it, if missing). Each system opens the
chart once (cold: a fresh process per system; open is from the compiled spec, or
for DuckDB from the Parquet file, to the three views before any brush) and
answers the same recorded
brushes: over each view in turn, with random bounds, fractional bounds on the
integer-valued columns, reversed bounds and bounds outside the domain. It prints
open seconds, update p50/p95/p99 in milliseconds, the first brush (vegalake
builds its brush index there) and peak RSS; and checks on every brush whether
each system's counts per bin agree with vegalake's (Mosaic's snap the brush to
pixels, so they differ at the edges).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_workloads import peak_rss_mb

FIELDS = {"distance": (0.0, 5000.0), "delay": (-150.0, 200.0), "time": (0.0, 24.0)}


def brushes(n: int) -> list[tuple[str, float, float]]:
    """The recorded brushes: (field, bound, bound), deterministic."""
    rng = random.Random(19)
    out = []
    for i in range(n):
        field = list(FIELDS)[i % 3]
        lo, hi = FIELDS[field]
        span = hi - lo
        a, b = sorted(rng.uniform(lo, hi) for _ in range(2))
        kind = i % 5
        if kind == 1:
            a, b = a + 0.5, b + 0.25  # fractional bounds on integer-valued columns
        elif kind == 2:
            a, b = b, a  # reversed
        elif kind == 3:
            a, b = lo - span, lo + rng.uniform(0, span)  # outside the domain
        out.append((field, a, b))
    return out


def spec() -> dict:
    """The Vega spec of the crossfilter, reading the frame registered as "flights",
    compiled by the vega-lite embedded in vegalake (every system gets this spec)."""
    import altair as alt

    from vegalake._altair import _vega_of_vegalite

    brush = alt.selection_interval(encodings=["x"], name="brush")
    source = alt.UrlData("vegafusion+dataset://flights")

    def view(field: str):
        base = alt.Chart(source).mark_bar().encode(alt.X(f"{field}:Q", bin=alt.Bin(maxbins=20)), y="count()")
        return base.encode(color=alt.value("#ddd")).add_params(brush) + base.transform_filter(brush)

    vega = _vega_of_vegalite(alt.hconcat(view("distance"), view("delay"), view("time")).to_dict())
    for d in vega["data"]:
        if d.get("url") == "vegafusion+dataset://flights":
            d.pop("format", None)
    return vega


def store(field: str, a: float, b: float) -> list[dict]:
    return [{"unit": f"view_{field}", "fields": [{"field": field, "channel": "x", "type": "R"}], "values": [[a, b]]}]


def counts(snapshots: list[dict]) -> list[dict]:
    """What the views show after each brush, bin -> count per binned dataset,
    comparable across systems: `snapshots` holds each dataset's rows as the last
    update gave them (a system leaves an unchanged dataset out of an update)."""
    keys = {}
    for snapshot in snapshots:
        for name, rows in snapshot.items():
            key = next((k for k in (rows[0] if rows else {}) if k.startswith("bin_") and not k.endswith("_end")), None)
            if key and "__count" in rows[0]:
                keys[name] = key
    return [{keys[n]: sorted((r[keys[n]], r["__count"]) for r in rows) for n, rows in s.items() if n in keys} for s in snapshots]


def run_vegalake(path: Path, recorded, frame, vega: dict) -> dict:
    import vegalake as vl

    start = time.perf_counter()
    state = vl.Runtime().new_chart_state(vega, inline_datasets={"flights": frame})
    opened = time.perf_counter() - start
    return timed(opened, recorded, lambda f, a, b: state.update([{"namespace": "data", "name": "brush_store", "scope": [], "value": store(f, a, b)}]))


def run_vegafusion(path: Path, recorded, frame, vega: dict) -> dict:
    import vegafusion as vf

    start = time.perf_counter()
    state = vf.runtime.new_chart_state(vega, inline_datasets={"flights": frame})
    opened = time.perf_counter() - start
    return timed(opened, recorded, lambda f, a, b: state.update([{"namespace": "data", "name": "brush_store", "scope": [], "value": store(f, a, b)}]))


def run_duckdb(path: Path, recorded, frame, vega: dict) -> dict:
    """Hand SQL: the table in DuckDB's memory, each update three exact GROUP BYs."""
    started = time.perf_counter()
    con, bins = _duckdb_table(path)
    _initial_views(con, bins)
    opened = time.perf_counter() - started

    def update(field: str, a: float, b: float):
        lo, hi = min(a, b), max(a, b)
        where = f"{field} BETWEEN {lo!r} AND {hi!r}"
        return [_rows(g, con.execute(f"SELECT {bins[g]} AS b, count(*) FROM flights WHERE {where} GROUP BY b").fetchall()) for g in FIELDS]

    return timed(opened, recorded, update)


def run_mosaic(path: Path, recorded, frame, vega: dict) -> dict:
    """Mosaic's way, in DuckDB: per brushed field and view, a table pre-aggregated
    by the brush's pixel (300 across the view) and the view's bin; an update sums
    the pixels the brush covers, so its edges snap to pixels."""
    started = time.perf_counter()
    con, bins = _duckdb_table(path)
    pixels = {}
    for f in FIELDS:
        lo, hi = con.execute(f"SELECT min({f}), max({f}) FROM flights").fetchone()
        pixels[f] = (lo, (hi - lo) / PIXELS)
        px = f"least(floor(({f} - {lo!r}) / {pixels[f][1]!r}), {PIXELS - 1})"
        for g in FIELDS:
            con.execute(f"CREATE TABLE cube_{f}_{g} AS SELECT {px} AS px, {bins[g]} AS b, count(*) AS n FROM flights GROUP BY px, b")
    _initial_views(con, bins)
    opened = time.perf_counter() - started

    def update(field: str, a: float, b: float):
        start, width = pixels[field]
        px0, px1 = (math.floor((v - start) / width) for v in sorted((a, b)))
        where = f"px BETWEEN {px0} AND {px1}"
        return [_rows(g, con.execute(f"SELECT b, sum(n) FROM cube_{field}_{g} WHERE {where} GROUP BY b").fetchall()) for g in FIELDS]

    return timed(opened, recorded, update)


PIXELS = 300


def _duckdb_table(path: Path):
    """A DuckDB connection holding the columns in memory, and vega's bin start
    of each field as SQL."""
    import duckdb
    from bench_workloads import bin_sql

    con = duckdb.connect()
    con.execute(f"CREATE TABLE flights AS SELECT {', '.join(FIELDS)} FROM read_parquet('{path}')")
    return con, {f: bin_sql(con, f, 20) for f in FIELDS}


def _initial_views(con, bins: dict) -> list[dict]:
    """The views before any brush: what a chart shows when it opens, so every
    system's open time includes them."""
    return [_rows(g, con.execute(f"SELECT {bins[g]} AS b, count(*) FROM flights GROUP BY b").fetchall()) for g in FIELDS]


def _rows(field: str, groups) -> dict:
    """Groups (bin, count) as the data update a chart state gives, so counts()
    compares them with vegalake's."""
    return {"namespace": "data", "name": f"view_{field}", "value": [{f"bin_maxbins_20_{field}": b, "__count": int(n)} for b, n in groups if n]}


def timed(opened: float, recorded, update) -> dict:
    times, snapshots, current = [], [], {}
    for field, a, b in recorded:
        start = time.perf_counter()
        out = update(field, a, b)
        times.append((time.perf_counter() - start) * 1000)
        current.update({u["name"]: u["value"] for u in out if u.get("namespace") == "data" and isinstance(u.get("value"), list)})
        snapshots.append(dict(current))
    ms = sorted(times[1:])
    pick = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
    rss = peak_rss_mb()
    answers = counts(snapshots)
    return {"open_s": opened, "first_ms": times[0], "p50": statistics.median(ms), "p95": pick(0.95), "p99": pick(0.99), "rss_mb": rss, "answers": answers}


def child(system: str, directory: Path, n: int) -> None:
    import pandas as pd

    path = directory / "flights.parquet"
    frame = pd.read_parquet(path, columns=list(FIELDS))
    # Compiled before any clock starts: DuckDB's hand SQL has no such step.
    vega = spec() if system in ("vegalake", "vegafusion") else {}
    run = {"vegalake": run_vegalake, "vegafusion": run_vegafusion, "duckdb": run_duckdb, "mosaic": run_mosaic}[system]
    result = run(path, brushes(n), frame, vega)
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", type=Path)
    parser.add_argument("--brushes", type=int, default=200)
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows of the data written when DIR has none")
    parser.add_argument("--systems", default="vegalake,vegafusion,duckdb,mosaic")
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.directory, args.brushes)
        return
    from bench_altair import write_data

    args.directory.mkdir(parents=True, exist_ok=True)
    write_data(args.directory, args.rows)
    results = {}
    for system in args.systems.split(","):
        cmd = [sys.executable, __file__, str(args.directory), "--brushes", str(args.brushes), "--child", system]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            tail = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
            print(f"{system:<11} failed: {tail[0]}" + (" (killed: out of memory?)" if done.returncode < 0 else ""))
            continue
        results[system] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"W1 crossfilter, {args.brushes} brushes; update ms over brushes 2..N; peak RSS of the process")
    print(f"{'system':<11} {'open s':>7} {'1st ms':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'RSS MB':>8}")
    for system, r in results.items():
        print(f"{system:<11} {r['open_s']:7.2f} {r['first_ms']:8.1f} {r['p50']:8.1f} {r['p95']:8.1f} {r['p99']:8.1f} {r['rss_mb']:8.0f}")
    ours = results.get("vegalake", {}).get("answers")
    for system, r in results.items():
        if ours is None or system == "vegalake":
            continue
        differ = [i for i, (a, b) in enumerate(zip(ours, r["answers"], strict=True)) if a != b]
        first = f" (first differing: {differ[:5]})" if differ else ""
        print(f"{system}'s counts per bin equal vegalake's on {len(ours) - len(differ)} of {len(ours)} brushes{first}")
        print(
            f"  vegalake / {system}: open {results['vegalake']['open_s'] / r['open_s']:.2f}x, p50 {results['vegalake']['p50'] / r['p50']:.2f}x, "
            f"p95 {results['vegalake']['p95'] / r['p95']:.2f}x, p99 {results['vegalake']['p99'] / r['p99']:.2f}x"
        )
    if "vegalake" in args.systems.split(",") and ours is None:
        sys.exit("vegalake failed: no figures")


if __name__ == "__main__":
    main()
