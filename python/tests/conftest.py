"""Fixtures of the Python suite: vegalake enabled on a local runtime, a Delta table
written by the deltalake package, and vega.js (the project's Node harness) for
running client specs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
HARNESS = HERE.parents[1] / "integration-tests" / "harness"
sys.path.insert(0, str(HERE))


@pytest.fixture(scope="session", autouse=True)
def vegalake_enabled():
    import vegalake as vl

    return vl.enable()


def expected(name: str) -> dict:
    path = HERE / "expected" / f"{name}.json"
    assert path.is_file(), f"no expected file for {name}: run python/tests/author.py {name}"
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def delta_flights(tmp_path_factory) -> Path:
    """flights-2k as a Delta table: version 0 holds its first 1,000 rows, version 1
    appends the rest."""
    import pyarrow.parquet as pq
    from deltalake import write_deltalake
    from suite import FLIGHTS_PARQUET

    table = pq.read_table(FLIGHTS_PARQUET)
    path = tmp_path_factory.mktemp("lake") / "flights_delta"
    write_deltalake(str(path), table.slice(0, 1000))
    write_deltalake(str(path), table.slice(1000), mode="append")
    return path


def run_in_vegajs(specs: dict[str, dict], tmp: Path, states: dict[str, dict] | None = None) -> dict[str, dict]:
    """Runs Vega specs in the official vega runtime (TZ=UTC), each in its state
    (``{"set": {signal: value}, "store": {dataset: rows}}``): {name: {datasets,
    signals}} or {name: {error}}."""
    manifest = []
    for name, spec in specs.items():
        path = tmp / f"{name}.vg.json"
        path.write_text(json.dumps(spec))
        manifest.append({"name": name, "spec": str(path), "timezone": "UTC", **(states or {}).get(name, {})})
    (tmp / "manifest.json").write_text(json.dumps(manifest))
    run = subprocess.run(["node", str(HARNESS / "client-check.mjs"), str(tmp / "manifest.json")], capture_output=True, text=True, check=False)
    assert run.returncode == 0, f"vega.js harness failed: {run.stderr[-2000:]}"
    return json.loads(run.stdout)
