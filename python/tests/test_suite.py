"""The Altair suite against vega.js: each chart's transformed data, and its
pre-transformed client spec run in vega.js, equal what vega.js computes for the
original chart."""

from __future__ import annotations

import re

import altair as alt
import pytest
from altair.utils._transformed_data import get_datasets_for_view_names, get_facet_mapping, name_views
from author import spec_hash
from conftest import expected, run_in_vegajs
from rows import difference, expected_rows, table_rows
from suite import CHARTS, INTERACTIONS, LAKE_CHARTS, LOCAL_TZ

import vegalake as vl
from vegalake._altair import settings, transformed_tables

NAMES = sorted(CHARTS)

# Charts whose data the server cannot evaluate whole yet, with the transform that
# stops it: transformed_data raises DataError naming it (checked both ways: a
# chart that starts evaluating fails its entry here). Their client specs still
# run in vega.js and are compared like every other chart's.
SERVER_CANNOT: dict[str, str] = {}


@pytest.fixture(autouse=True)
def local_tz(request):
    """The chart's local time zone (LOCAL_TZ), as vl.enable(local_tz=...) sets it."""
    name = getattr(request.node, "callspec", None) and request.node.callspec.params.get("name")
    settings.local_tz = LOCAL_TZ.get(name)
    yield settings.local_tz
    settings.local_tz = None


def test_the_suite_is_large_and_every_chart_has_expectations():
    assert len(CHARTS) >= 60
    for name in NAMES:
        expected(name)


@pytest.mark.parametrize("name", NAMES)
def test_transformed_data_equals_vegajs(name):
    want = expected(name)
    chart = CHARTS[name]()
    if alt.__version__ == want["altair"]:
        # The expectation was computed from this very spec (no drift since).
        assert spec_hash(chart) == want["vega_spec_sha256"], f"{name}: the chart changed since author.py ran"
    if name in SERVER_CANNOT:
        with pytest.raises(vl.DataError, match=rf"not evaluated on the server: .*\({SERVER_CANNOT[name]}\)"):
            transformed_tables(chart)
        return
    tables = transformed_tables(chart)
    assert len(tables) == len(want["views"])
    for i, (table, rows) in enumerate(zip(tables, want["views"], strict=True)):
        diff = difference(table_rows(table), expected_rows(rows))
        assert diff is None, f"{name}, view {i}: {diff}"


@pytest.fixture(scope="module")
def client_specs_in_vegajs(tmp_path_factory):
    """Every chart's client spec (vl.to_vega) run in vega.js, and which of its
    datasets feeds each view."""
    specs, views = {}, {}
    for name in NAMES:
        chart = CHARTS[name]().copy(deep=True)
        names = name_views(chart, 0)
        settings.local_tz = LOCAL_TZ.get(name)
        client, _ = vl.to_vega(chart)
        specs[name] = client
        views[name] = get_datasets_for_view_names(client, names, get_facet_mapping(client))
        views[name] = [views[name][n] for n in names]
    settings.local_tz = None
    zones = {name: {"timezone": LOCAL_TZ[name]} for name in LOCAL_TZ}
    return run_in_vegajs(specs, tmp_path_factory.mktemp("client"), zones), views


@pytest.mark.parametrize("name", NAMES)
def test_client_spec_computes_the_same_data_in_vegajs(name, client_specs_in_vegajs):
    results, views = client_specs_in_vegajs
    result = results[name]
    assert "error" not in result, f"{name}: vega.js failed on the client spec: {result.get('error')}"
    for i, ((dataset, scope), rows) in enumerate(zip(views[name], expected(name)["views"], strict=True)):
        assert not scope, f"{name}: view {i} reads a dataset inside a group"
        client_rows = expected_rows(result["datasets"][dataset])
        # The server ships only the columns the client spec reads.
        kept = {k for row in client_rows for k in row}
        assert kept or not rows, f"{name}, view {i}: the client has no rows"
        diff = difference(client_rows, [{k: v for k, v in row.items() if k in kept} for row in expected_rows(rows)])
        assert diff is None, f"{name}, view {i} ({dataset}) in the client spec: {diff}"


@pytest.mark.parametrize("name", sorted(INTERACTIONS))
def test_standalone_client_spec_answers_interactions_like_vegajs(name, tmp_path):
    """The HTML renderer's spec works without a kernel: a brush or a slider moved
    in the browser changes the other views as in vega.js."""
    want = expected(f"{name}@interaction")
    assert want["views"] != expected(name)["views"], "the interaction must change the data"
    chart = CHARTS[name]().copy(deep=True)
    names = name_views(chart, 0)
    client, _ = vl.to_vega(chart)
    mapping = get_datasets_for_view_names(client, names, get_facet_mapping(client))
    result = run_in_vegajs({name: client}, tmp_path, {name: want["state"]})[name]
    assert "error" not in result, result.get("error")
    for i, (view, rows) in enumerate(zip(names, want["views"], strict=True)):
        client_rows = expected_rows(result["datasets"][mapping[view][0]])
        kept = {k for row in client_rows for k in row}
        diff = difference(client_rows, [{k: v for k, v in row.items() if k in kept} for row in expected_rows(rows)])
        assert diff is None, f"{name}, view {i} after the interaction: {diff}"


@pytest.mark.parametrize("name", sorted(LAKE_CHARTS))
@pytest.mark.parametrize("source", ["parquet", "delta", "delta_version_0"])
def test_lake_tables_equal_vegajs(name, source, delta_flights):
    from suite import FLIGHTS_PARQUET

    table = {
        "parquet": lambda: vl.parquet(FLIGHTS_PARQUET),
        "delta": lambda: vl.delta(delta_flights),
        "delta_version_0": lambda: vl.delta(delta_flights, version=0),
    }[source]()
    assert table.num_rows == 0, "a lake table reaches Altair as its schema only"
    want = expected(f"{name}@{'first1000' if source == 'delta_version_0' else 'all'}")
    tables = transformed_tables(LAKE_CHARTS[name](table))
    assert len(tables) == len(want["views"])
    for i, (t, rows) in enumerate(zip(tables, want["views"], strict=True)):
        diff = difference(table_rows(t), expected_rows(rows))
        assert diff is None, f"{name} over {source}, view {i}: {diff}"


def test_lake_charts_run_on_spark_connect():
    """vl.enable(engine="spark://...") runs the charts' queries on Spark: the same
    data as vega.js, and every table query ran on the engine."""
    import os

    from suite import FLIGHTS_PARQUET

    url = os.environ.get("VEGALAKE_SPARK_CONNECT")
    assert url, "scripts/test.sh starts a Spark Connect server and sets VEGALAKE_SPARK_CONNECT"
    vl.enable(engine=url, timeout=300)
    try:
        for name, build in sorted(LAKE_CHARTS.items()):
            chart = build(vl.parquet(FLIGHTS_PARQUET))
            want = expected(f"{name}@all")
            for i, (t, rows) in enumerate(zip(transformed_tables(chart), want["views"], strict=True)):
                diff = difference(table_rows(t), expected_rows(rows))
                assert diff is None, f"{name} on Spark, view {i}: {diff}"
            # Queries of the table ran on Spark; a local scan (of rows Spark
            # returned and the runtime pinned) read no bytes of the table.
            scanned = [e["scanned"] for e in vl.explain(chart) if "scanned" in e]
            assert any("ran on the engine" in s for s in scanned), scanned
            assert not any(re.search(r"row groups, [1-9][0-9]* of [0-9]+ bytes", s) for s in scanned), scanned
    finally:
        vl.enable()
