"""Runs SQL tasks on DuckDB (the Python package) and prints their rows as JSON.

    python3 duckdb_run.py TASKS.json

TASKS.json: [{"id": ..., "setup": [statement, ...], "sql": query}, ...]. Prints
{id: {"rows": [{column: value}]} | {"error": "..."}} with dates as epoch
milliseconds and NaN/Infinity as the strings vegalake's contract uses; the
__vl_row column (input order) is dropped.
"""
import datetime
import json
import math
import sys

import duckdb


def cell(v):
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return v.timestamp() * 1000.0
    if isinstance(v, datetime.date):
        return datetime.datetime(v.year, v.month, v.day, tzinfo=datetime.timezone.utc).timestamp() * 1000.0
    if hasattr(v, "__float__") and not isinstance(v, (bool, int)):
        return float(v)
    return v


def run(task):
    con = duckdb.connect()
    try:
        for statement in task["setup"]:
            con.execute(statement)
        cur = con.execute(task["sql"])
        names = [d[0] for d in cur.description]
        rows = [{n: cell(v) for n, v in zip(names, row) if n != "__vl_row"} for row in cur.fetchall()]
        return {"rows": rows}
    except Exception as e:  # noqa: BLE001 - reported per task
        return {"error": str(e).splitlines()[0]}
    finally:
        con.close()


def main():
    with open(sys.argv[1]) as f:
        tasks = json.load(f)
    json.dump({t["id"]: run(t) for t in tasks}, sys.stdout)


main()
