"""A ``vegalake serve`` as the package's engine (``grpc://``): the CLI's server
started on loopback (a free port it picks and prints), the crossfilter over
Parquet of the interactions suite opened and brushed through it and compared
with vega.js's states, and its refusals as the package's exceptions."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import altair as alt
import pandas as pd
import pytest
from rows import difference, expected_rows

import vegalake as vl

REPO = Path(__file__).resolve().parents[2]
DATASETS = REPO / "integration-tests" / "datasets"
INTERACTIONS = REPO / "integration-tests" / "interactions"
TOKEN = "python-suite-token-0123456789"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """`vegalake serve` over the suite's datasets: its grpc:// URL."""
    binary = os.environ.get("VEGALAKE_BIN")
    if not binary:
        pytest.fail("VEGALAKE_BIN (the CLI, which serves) is not set: run through scripts/test.sh")
    tokens = tmp_path_factory.mktemp("serve") / "tokens"
    tokens.write_text(TOKEN + "\n")
    args = [binary, "serve", "--bind", "127.0.0.1:0", "--token-file", str(tokens), "--data-dir", str(DATASETS)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("listening on "), f"vegalake serve printed {line!r}"
        yield "grpc://" + line.removeprefix("listening on ").strip()
    finally:
        process.terminate()
        process.wait()


def test_a_served_crossfilter_over_parquet_brushes_as_vegajs_does(server):
    expected = json.loads((INTERACTIONS / "expected" / "crossfilter_parquet.json").read_text())
    updates = json.loads((INTERACTIONS / "crossfilter_parquet.updates.json").read_text())
    runtime = vl.Runtime(server, token=TOKEN)
    state = runtime.new_chart_state(expected["spec"])
    current = {d["name"]: d["values"] for d in state.get_client_spec()["data"] if isinstance(d.get("values"), list) and "transform" not in d}
    compared = 0
    for step, update in zip(expected["steps"], [None, *updates], strict=True):
        if update is not None:
            for value in state.update(update):
                if value["namespace"] == "data":
                    current[value["name"]] = value["value"]
        for name, rows in current.items():
            if name in step["datasets"]:
                columns = {k for row in rows for k in row}
                theirs = [{k: v for k, v in row.items() if k in columns} for row in step["datasets"][name]]
                assert difference(expected_rows(rows), expected_rows(theirs)) is None, f"{name} after {update}"
                compared += 1
    assert len(updates) >= 20 and compared > len(updates)
    state.close()
    with pytest.raises(vl.DataError, match="no open chart"):
        state.update(updates[0])


def test_altair_charts_run_on_the_server_once_enabled(server):
    try:
        vl.enable(engine=server, token=TOKEN)
        chart = alt.Chart(alt.UrlData("data/flights-2k.parquet")).mark_bar().encode(x="origin:N", y="count():Q")
        spec, warnings = vl.to_vega(chart)
        shipped = [d for d in spec["data"] if isinstance(d.get("values"), list) and d["values"]]
        assert shipped and sum(r["__count"] for d in shipped for r in d["values"] if "__count" in r) == 2000, spec["data"]
        assert not any("url" in d for d in spec["data"]), "the browser reads nothing: the server did"
    finally:
        vl.enable()


def test_what_a_server_cannot_do_is_said(server):
    with pytest.raises(vl.ForbiddenError):
        vl.Runtime(server, token="wrong-token-0123456789").pre_transform_spec({"data": [{"name": "t", "values": [{"a": 1}]}]})
    runtime = vl.Runtime(server, token=TOKEN)
    with pytest.raises(vl.DataError, match="in-memory table"):
        runtime.pre_transform_spec({"data": [{"name": "t", "url": "vegafusion+dataset://frame"}]}, inline_datasets={"frame": pd.DataFrame({"a": [1]})})
    with pytest.raises(vl.EngineError, match="not offered by a remote"):
        runtime.evaluate({"data": [{"name": "t", "values": [{"a": 1}]}]})
    with pytest.raises(vl.SpecError):
        runtime.pre_transform_spec({"data": [{"name": "t", "transform": [{"type": "no-such-transform"}]}]})
    with pytest.raises(vl.EngineError, match="cannot connect"):
        vl.Runtime("grpc://127.0.0.1:1", token=TOKEN)
    with pytest.raises(ValueError, match="server's own"):
        vl.Runtime(server, token=TOKEN, data_dir=".")
