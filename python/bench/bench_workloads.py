"""The static workloads side by side: vegalake, VegaFusion and DuckDB's hand SQL,
cold process to JSON out, over one flights-like Parquet file.

    python bench_workloads.py DIR [--rows N] [--runs K] [--workloads W2,W3,W5] [--cli PATH]

- W2: a histogram of delay (50 bins);
- W3: bars of flights per year-month stacked by origin, beside the mean delay per
  hour of the day;
- W5: a 60 x 60 heatmap of distance by delay.

Each case runs in a fresh process per run (nothing cached, nothing imported):
vegalake from Python reads the file through ``vl.parquet`` (Altair's import and
the Vega-Lite compile count in its total); the vegalake CLI (``--cli``) is the
binary run on the chart's Vega spec, written before the clock starts, as a
dashboard or a batch job holds it (the counterpart of a query written by hand);
VegaFusion (its best variant:
only the chart's columns read into pandas, then Altair's "vegafusion" transformer);
DuckDB runs the SQL a person would write for the same chart (vega's bin step
computed from the extent, as vega computes it). The table prints the median
seconds, peak RSS and vegalake's ratio to each, and checks that every system's
aggregated rows agree with vegalake's (bins and counts exactly, means to 1e-9).
vega.js itself is the reference of the conformance tests, not run here: over
10M rows it does not finish on this machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

WORKLOADS = ("W2", "W3", "W5")
SYSTEMS = ("vegalake", "vegalake-cli", "vegafusion", "duckdb")
LABELS = {"vegalake": "vegalake Python", "vegalake-cli": "vegalake CLI", "vegafusion": "VegaFusion", "duckdb": "DuckDB SQL"}
COLUMNS = {"W2": ["delay"], "W3": ["date", "origin", "delay"], "W5": ["distance", "delay"]}
ORIGINS = [f"O{i:02d}" for i in range(12)]


def write_data(path: Path, rows: int) -> None:
    """A flights-like table: dates over one year, rounded delays and distances, a
    categorical origin (written once per size)."""
    if path.exists():
        return
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    start = np.datetime64("2024-01-01T00:00:00", "ms").astype("int64")
    table = pa.table(
        {
            "date": pa.array(start + rng.integers(0, 365 * 86_400_000, rows), pa.timestamp("ms", tz="UTC")),
            "delay": rng.normal(10, 30, rows).round(),
            "distance": rng.gamma(2.0, 400.0, rows).round(),
            "origin": pa.array(rng.choice(ORIGINS, rows)),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=1_000_000)


def chart(workload: str, source):
    """The Altair chart of a workload."""
    import altair as alt

    if workload == "W2":
        return alt.Chart(source).mark_bar().encode(alt.X("delay:Q", bin=alt.Bin(maxbins=50)), y="count()")
    if workload == "W3":
        bars = alt.Chart(source).mark_bar().encode(x="yearmonth(date):T", y="count()", color="origin:N")
        line = alt.Chart(source).mark_line().encode(x="hours(date):O", y="mean(delay):Q")
        return bars | line
    return alt.Chart(source).mark_rect().encode(alt.X("distance:Q", bin=alt.Bin(maxbins=60)), alt.Y("delay:Q", bin=alt.Bin(maxbins=60)), color="count()")


def vega_bin(lo: float, hi: float, maxbins: int) -> tuple[float, float, float]:
    """vega-statistics' bin (base 10, divide [5, 2], nice): (start, stop, step)."""
    span, logb = hi - lo, math.log(10)
    level = math.ceil(math.log(maxbins) / logb)
    step = max(0.0, 10 ** (round(math.log(span) / logb) - level))
    while math.ceil(span / step) > maxbins:
        step *= 10
    for divide in (5, 2):
        if span / (step / divide) <= maxbins:
            step /= divide
    v = math.log(step)
    precision = 0 if v >= 0 else int(-v / logb) + 1
    v = math.floor(lo / step + 10 ** (-precision - 1)) * step
    return (v - step if lo < v else v), math.ceil(hi / step) * step, step


def bin_sql(con, field: str, maxbins: int) -> str:
    """The SQL of vega's bin start of `field` (the last bin closed), its step
    from the extent."""
    lo, hi = con.execute(f"SELECT min({field}), max({field}) FROM flights").fetchone()
    start, stop, step = vega_bin(lo, hi, maxbins)
    return f"least({start!r} + {step!r} * floor(({field} - {start!r}) / {step!r} + 1e-14), {stop - step!r})"


def run_duckdb(workload: str, path: Path) -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW flights AS SELECT * FROM read_parquet('{path}')")
    if workload == "W2":
        rows = con.execute(f"SELECT {bin_sql(con, 'delay', 50)} AS b, count(*) FROM flights GROUP BY b").fetchall()
        return {"bins": {key(delay=b): n for b, n in rows}}
    if workload == "W5":
        x, y = bin_sql(con, "distance", 60), bin_sql(con, "delay", 60)
        rows = con.execute(f"SELECT {x} AS x, {y} AS y, count(*) FROM flights GROUP BY x, y").fetchall()
        return {"bins": {key(distance=x, delay=y): n for x, y, n in rows}}
    months = con.execute(
        "SELECT epoch_ms(m), origin, n, sum(n) OVER (PARTITION BY m ORDER BY origin) FROM "
        "(SELECT date_trunc('month', date) AS m, origin, count(*) AS n FROM flights GROUP BY m, origin)"
    ).fetchall()
    hours = con.execute("SELECT hour(date), avg(delay) FROM flights GROUP BY 1").fetchall()
    return {"bins": {key(month=m, origin=o): n for m, o, n, _ in months}, "means": {str(h): mean for h, mean in hours}}


def key(**parts) -> str:
    """A group's key, comparable across systems: fields by name, numbers as floats."""
    return "|".join(f"{k}={float(v) if isinstance(v, (int, float)) else v}" for k, v in sorted(parts.items()))


def summary(spec: dict) -> dict:
    """The aggregated rows of a pre-transformed Vega spec, keyed as run_duckdb keys them."""
    out: dict = {"bins": {}, "means": {}}
    for data in spec.get("data", []):
        rows = data.get("values")
        if not isinstance(rows, list) or not rows or not isinstance(rows[0], dict):
            continue
        for row in rows:
            # A stacked count may reach the spec only as its stack (VegaFusion keeps what the marks read).
            count = row["__count"] if "__count" in row else row["__count_end"] - row["__count_start"] if "__count_end" in row else None
            if count is not None:
                parts = {GROUP_NAMES.get(k, k.rsplit("_", 1)[-1]): _ms(v) for k, v in row.items() if _groups(k)}
                if parts:
                    out["bins"][key(**parts)] = count
            if "mean_delay" in row and "hours_date" in row:
                out["means"][str(_hour(row["hours_date"]))] = row["mean_delay"]
    return out


# Vega-Lite's names of the grouping columns that are not bins.
GROUP_NAMES = {"yearmonth_date": "month", "origin": "origin"}


def _groups(column: str) -> bool:
    """Whether a column of an aggregated row is one of its group's key."""
    return column in GROUP_NAMES or (column.startswith("bin_maxbins") and not column.endswith("_end"))


def _ms(value):
    """A time unit's ISO string (VegaFusion's form) as ms since the epoch, in UTC
    as the run is; anything else as it is."""
    if isinstance(value, str) and value[:4].isdigit() and "T" in value:
        from datetime import datetime, timezone

        return datetime.fromisoformat(value).replace(tzinfo=timezone.utc).timestamp() * 1000
    return value


def _hour(value) -> int:
    """An hours() time unit: ms since the epoch (UTC here), or an ISO string."""
    if isinstance(value, str):
        from datetime import datetime

        return datetime.fromisoformat(value).hour
    return int(value // 3_600_000 % 24)


def agree(ours: dict, theirs: dict) -> str | None:
    """None when the aggregated rows agree, else what differs first."""
    if not ours["bins"]:
        return "vegalake's spec has no aggregated rows to compare"
    if ours["bins"] != theirs["bins"]:
        missing = set(ours["bins"]) ^ set(theirs["bins"])
        if missing:
            return f"{len(missing)} keys differ, e.g. {sorted(missing)[:3]}"
        k = next(k for k in ours["bins"] if ours["bins"][k] != theirs["bins"][k])
        return f"count at {k}: {ours['bins'][k]} vs {theirs['bins'][k]}"
    ours_means, theirs_means = ours.get("means", {}), theirs.get("means", {})
    for k, mean in ours_means.items():
        other = theirs_means.get(k)
        if other is None or abs(mean - other) > 1e-9 * max(1.0, abs(mean)):
            return f"mean at hour {k}: {mean} vs {other}"
    if set(ours_means) != set(theirs_means):
        return "the hours differ"
    return None


def child(system: str, workload: str, path: Path, cli: Path | None) -> dict:
    """One cold measurement, in this fresh process: import to JSON out, and the
    engine's part (after the imports and the Vega-Lite compile)."""
    if system == "vegalake-cli":
        return run_cli(cli, workload, path)
    start = time.perf_counter()
    result = None
    if system == "vegalake":
        import vegalake as vl
        from vegalake._altair import _chart_to_vega  # vl.to_vega's compile step, timed apart

        vl.enable()
        vega = _chart_to_vega(chart(workload, vl.parquet(path)))
        compiled = time.perf_counter()
        spec, _ = vl.runtime.pre_transform_spec(vega)
    elif system == "vegafusion":
        import altair as alt
        import pandas as pd
        import vegafusion as vf

        vega = chart(workload, alt.UrlData("vegafusion+dataset://flights")).to_dict(format="vega")
        for data in vega["data"]:
            data.pop("format", None)
        compiled = time.perf_counter()
        frame = pd.read_parquet(path, columns=COLUMNS[workload])
        spec, _ = vf.runtime.pre_transform_spec(vega, inline_datasets={"flights": frame})
    else:
        import duckdb  # noqa: F401  (its import, like the others', counts in the total only)

        compiled = time.perf_counter()
        result = run_duckdb(workload, path)
    text = json.dumps(result if result is not None else spec)
    end = time.perf_counter()
    rss = peak_rss_mb()
    rows = result if result is not None else summary(spec)
    return {"seconds": end - start, "engine": end - compiled, "rss_mb": rss, "bytes": len(text), "rows": rows}


def spec_path(workload: str, path: Path) -> Path:
    return path.with_name(f"{workload}-{path.stem}.vg.json")


def write_spec(workload: str, path: Path) -> None:
    """The workload's Vega spec, compiled by vegalake from the Altair chart, for
    the CLI."""
    import vegalake as vl
    from vegalake._altair import _chart_to_vega

    vl.enable()
    spec_path(workload, path).write_text(json.dumps(_chart_to_vega(chart(workload, vl.parquet(path)))))


def run_cli(cli: Path | None, workload: str, path: Path) -> dict:
    """The vegalake binary on the workload's Vega spec: its wall time to the
    client spec on stdout, and its peak RSS (this small process's children's: the
    binary's, since it is the larger)."""
    import resource

    if cli is None:
        raise SystemExit("the vegalake CLI needs --cli PATH")
    start = time.perf_counter()
    out = subprocess.run([str(cli), "pretransform", "--data-dir", str(path.parent), str(spec_path(workload, path))], capture_output=True, text=True)
    end = time.perf_counter()
    if out.returncode != 0:
        raise SystemExit(out.stderr.strip() or f"exit {out.returncode}")
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": end - start, "engine": end - start, "rss_mb": rss, "bytes": len(out.stdout), "rows": summary(json.loads(out.stdout))}


def peak_rss_mb() -> float:
    """This process's peak resident memory. Not getrusage's ru_maxrss: Linux keeps
    it across exec, so a child reports its parent's peak when that is higher (the
    parent that wrote the data showed its 574 MB in every child); VmHWM belongs to
    the process's own address space."""
    with open("/proc/self/status") as status:
        kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    return kb / 1024


def measure(system: str, workload: str, args: argparse.Namespace) -> tuple[list[dict], str | None]:
    """`runs` cold processes of one case, or why it failed."""
    runs = []
    for _ in range(args.runs):
        cmd = [sys.executable, __file__, str(args.directory), "--rows", str(args.rows), "--child", system, workload]
        cmd += ["--cli", str(args.cli)] if args.cli else []
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            lines = [line for line in out.stderr.strip().splitlines() if not line.startswith(" ")]
            return runs, f"exit {out.returncode}: " + (lines or ["no output"])[-1][:200]
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs, None


def data_path(args: argparse.Namespace) -> Path:
    return args.directory / f"workloads-{args.rows}.parquet"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--cli", type=Path, help="the vegalake binary (release), measured beside the Python package")
    parser.add_argument("--child", nargs=2, metavar=("SYSTEM", "WORKLOAD"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, data_path(args), args.cli)))
        return 0
    write_data(data_path(args), args.rows)
    systems = [s for s in SYSTEMS if s != "vegalake-cli" or args.cli]
    for workload in args.workloads.split(",") if args.cli else []:
        write_spec(workload, data_path(args))
    print(f"{args.rows:,} rows of Parquet; median of {args.runs} cold processes. total: process start to JSON out;")
    print("engine: after the imports and the Vega-Lite compile (VegaFusion's includes reading the columns into pandas)")
    print(f"{'':<4} {'system':<16} {'total s':>8} {'engine s':>9} {'RSS MB':>7} {'total/VF':>9} {'total/DuckDB':>13} {'RSS/DuckDB':>11}  agreement")
    status = 0
    # Interleaved: each workload's systems in turn, so a machine's drift shows in all.
    for workload in args.workloads.split(","):
        cases = {system: measure(system, workload, args) for system in systems}
        status |= any(cases[s][1] is not None for s in cases if s.startswith("vegalake"))
        for text in lines(workload, cases):
            print(text)
    return status


def lines(workload: str, cases: dict) -> list[str]:
    """A row per system: median total and engine seconds, peak RSS; for vegalake's
    rows, the ratios to VegaFusion and DuckDB and whether the others agree."""
    done = {s: runs for s, (runs, failed) in cases.items() if runs and not failed}

    def median(system: str, key: str) -> float | None:
        return statistics.median(r[key] for r in done[system]) if system in done else None

    def ratio(system: str, other: str, key: str) -> str:
        ours, theirs = median(system, key), median(other, key)
        return f"{ours / theirs:.2f}x" if ours and theirs else "-"

    def peak(system: str) -> float | None:
        return max(r["rss_mb"] for r in done[system]) if system in done else None

    out = []
    for system, (_, failure) in cases.items():
        if failure:
            out.append(f"{workload:<4} {LABELS[system]:<16} failed: {failure}")
            continue
        total, engine, rss = median(system, "seconds"), median(system, "engine"), peak(system)
        text = f"{workload:<4} {LABELS[system]:<16} {total:>8.2f} {engine:>9.2f} {rss:>7.0f}"
        if system.startswith("vegalake"):
            rss_ratio = f"{rss / peak('duckdb'):.2f}x" if peak("duckdb") else "-"
            text += f" {ratio(system, 'vegafusion', 'seconds'):>9} {ratio(system, 'duckdb', 'seconds'):>13} {rss_ratio:>11}"
            ours = done[system][0]["rows"]
            checks = [f"{o} {'agrees' if (d := agree(ours, done[o][0]['rows'])) is None else 'DIFFERS: ' + d}" for o in ("vegafusion", "duckdb") if o in done]
            text += "  " + "; ".join(checks)
        out.append(text)
    return out


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    sys.exit(main())
