"""The package's API: Altair's plugins, what reaches the browser, the frame types
returned, VegaFusion's methods, lake tables, logging, and bad input."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import altair as alt
import numpy as np
import pandas as pd
import pytest
from suite import FLIGHTS_PARQUET, cars

import vegalake as vl


def big_frame(n: int = 200_000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({"x": rng.normal(size=n), "g": rng.choice(["a", "b", "c"], size=n)})


def test_altair_finds_the_plugins_without_importing_vegalake():
    code = (
        "import sys, altair as alt, pandas as pd\n"
        "alt.data_transformers.enable('vegalake')\n"
        "alt.renderers.enable('vegalake')\n"
        "chart = alt.Chart(pd.DataFrame({'x': range(10000)})).mark_bar().encode(alt.X('x', bin=True), y='count()')\n"
        "spec = chart.to_dict()\n"
        "bundle = alt.renderers.get()(spec)\n"
        "print(spec['data']['url'].split('://')[0], 'text/html' in bundle)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["vegalake+dataset", "True"]


def test_input_size_is_not_limited_and_only_aggregates_ship():
    chart = alt.Chart(big_frame()).mark_bar().encode(alt.X("x:Q", bin=alt.Bin(maxbins=50)), y="count()", color="g:N")
    client, warnings = vl.to_vega(chart)
    shipped = [d for d in client["data"] if "values" in d]
    assert shipped and sum(len(d["values"]) for d in shipped) < 500
    assert len(json.dumps(client)) < 100_000
    assert not any(w["type"] == "row_limit" for w in warnings)


def test_the_row_limit_names_the_dataset_and_its_count():
    vl.enable(row_limit=100)
    try:
        chart = alt.Chart(big_frame(1000)).mark_point().encode(x="x:Q", y="g:N")
        with pytest.raises(vl.RowLimitError, match=r"dataset '.+' would send 1000 rows .* row limit of 100"):
            vl.to_vega(chart)
    finally:
        vl.enable()


def test_html_is_self_contained():
    html = vl.to_html(alt.Chart(cars()).mark_bar().encode(x="Origin", y="count()"))
    assert "<script src" not in html and "cdn.jsdelivr" not in html
    assert "vegaEmbed(" in html and '"values"' in html
    assert len(html) < 1_500_000


def test_save_writes_html_and_vega(tmp_path):
    chart = alt.Chart(cars()).mark_bar().encode(x="Origin", y="count()")
    vl.save(chart, tmp_path / "c.html")
    vl.save(chart, tmp_path / "c.vg.json")
    spec = json.loads((tmp_path / "c.vg.json").read_text())
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega/")
    assert (tmp_path / "c.html").read_text().startswith("<div id=")
    with pytest.raises(ValueError, match=r"use \.html, \.vg\.json, \.svg, \.png or \.pdf"):
        vl.save(chart, tmp_path / "c.docx")


def _pixels(png: bytes) -> np.ndarray:
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"), dtype=np.int16)


def test_save_draws_images_like_vl_convert(tmp_path):
    """PNG, SVG and PDF from the embedded vega.js; the PNG matches vl-convert's
    drawing of the same pre-transformed spec (same size, at most 0.5% of pixels
    off by more than 16/255)."""
    import vl_convert

    chart = alt.Chart(cars(), title="Cars by origin").mark_bar().encode(x="Origin", y="count()", color="Origin")
    for ext in ("png", "svg", "pdf"):
        vl.save(chart, tmp_path / f"c.{ext}")
    assert (tmp_path / "c.svg").read_text().startswith("<svg")
    assert (tmp_path / "c.pdf").read_bytes().startswith(b"%PDF-")
    client, _ = vl.to_vega(chart, preserve_interactivity=False)
    ours, theirs = _pixels((tmp_path / "c.png").read_bytes()), _pixels(vl_convert.vega_to_png(client, scale=1))
    assert ours.shape == theirs.shape
    off = (np.abs(ours - theirs) > 16).any(axis=2).mean()
    assert off <= 0.005, f"{off:.2%} of pixels differ"
    # scale doubles a PNG; the bars are the server's counts (one per origin).
    assert _pixels(vl.image(chart, "png", scale=2)).shape[:2] == (ours.shape[0] * 2, ours.shape[1] * 2)
    assert (tmp_path / "c.svg").read_text().count('aria-roledescription="bar"') == cars()["Origin"].nunique()


def test_image_errors_are_typed():
    chart = alt.Chart(cars()).mark_bar().encode(x="Origin", y="count()")
    with pytest.raises(ValueError, match="unknown image format 'gif'"):
        vl.image(chart, "gif")
    with pytest.raises(vl.RenderError, match="not a positive number"):
        vl.image(chart, "png", scale=0)
    bad = {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "data": {"values": [{"a": 1}]},
        "mark": "bar",
        "encoding": {"x": {"field": "a", "type": "no-such-type"}},
    }
    with pytest.raises(vl.SpecError, match="Vega-Lite: Invalid field type"):
        vl.to_vega(bad)


def test_transformed_data_comes_back_in_the_input_library():
    import polars as pl
    import pyarrow as pa

    data = {"k": ["a", "b", "a"], "v": [1.0, 2.0, 3.0]}
    for frame, kind in [(pd.DataFrame(data), pd.DataFrame), (pl.DataFrame(data), pl.DataFrame), (pa.table(data), pa.Table)]:
        out = vl.transformed_data(alt.Chart(frame).mark_bar().encode(x="k:N", y="sum(v):Q"))
        assert isinstance(out, kind)
        assert sorted(zip(*[list(out[c]) if kind is not pa.Table else out[c].to_pylist() for c in ("k", "sum_v")], strict=True)) == [("a", 4.0), ("b", 2.0)]
    layered = alt.Chart(pd.DataFrame(data)).mark_bar().encode(x="k:N", y="sum(v):Q")
    assert isinstance(vl.transformed_data(layered + layered.mark_point()), list)


def test_vegafusion_methods_and_urls():
    vega = {
        "$schema": "https://vega.github.io/schema/vega/v6.json",
        "data": [
            {"name": "t", "url": "vegafusion+dataset://t", "transform": [{"type": "aggregate", "groupby": ["k"], "ops": ["sum"], "fields": ["v"], "as": ["s"]}]}
        ],
        "marks": [{"type": "rect", "from": {"data": "t"}, "encode": {"update": {"x": {"field": "s"}}}}],
    }
    frame = pd.DataFrame({"k": ["a", "b", "a"], "v": [1, 2, 3]})
    rt = vl.runtime
    client, warnings = rt.pre_transform_spec(vega, inline_datasets={"t": frame})
    assert sorted(client["data"][0]["values"], key=lambda r: r["s"]) == [{"s": 2}, {"s": 4}]
    (table,), _ = rt.pre_transform_datasets(vega, ["t"], inline_datasets={"t": frame}, dataset_format="pandas")
    assert sorted(table["s"]) == [2, 4]
    _, extracted, _ = rt.pre_transform_extract(vega, extract_threshold=1, inline_datasets={"t": frame})
    assert [(name, scope, t.num_rows) for name, scope, t in extracted] == [("t", [], 2)]


def test_chart_state_answers_a_brush_with_what_changed():
    brush = alt.selection_interval(encodings=["x"], name="brush")
    base = alt.Chart(cars())
    top = base.mark_point().encode(x="Horsepower:Q", y="Acceleration:Q").add_params(brush)
    bottom = base.mark_bar().encode(x="Origin:N", y="count()").transform_filter(brush)
    vega, _ = vl._altair._vega_of_vegalite(_vl_dict(top & bottom)), None
    state = vl.runtime.new_chart_state(vega)
    plan = state.get_comm_plan()
    assert any(v["name"] == "brush_store" for v in plan["client_to_server"])
    store = [{"unit": "concat_0", "fields": [{"field": "Horsepower", "channel": "x", "type": "R"}], "values": [[50, 100]]}]
    changed = state.update([{"namespace": "data", "name": "brush_store", "scope": [], "value": store}])
    counts = {r["Origin"]: r["__count"] for v in changed if v["namespace"] == "data" for r in v["value"] if "__count" in r}
    cars_in = cars()[(cars()["Horsepower"] >= 50) & (cars()["Horsepower"] <= 100)]
    assert counts == cars_in.groupby("Origin").size().to_dict()
    assert state.update([{"namespace": "data", "name": "brush_store", "scope": [], "value": store}]) == []


def _vl_dict(chart) -> dict:
    with alt.data_transformers.enable("vegalake"):
        return chart.to_dict()


def test_lake_tables_infer_types_from_the_schema_and_log_their_scans(caplog):
    flights = vl.parquet(FLIGHTS_PARQUET)
    chart = alt.Chart(flights).mark_bar().encode(x="origin", y="mean(delay)")
    assert chart.to_dict()["encoding"]["x"]["type"] == "nominal"
    with caplog.at_level(logging.INFO, logger="vegalake"):
        explained = vl.explain(chart)
    assert any("scanned" in r.getMessage() for r in caplog.records if r.name == "vegalake")
    server = [e for e in explained if e["where"] == "server" and "scanned" in e]
    assert server and all(e["engine"] == "local" for e in explained)
    assert all("TableScan" in e["plan"] and "Aggregate" in e["plan"] for e in server)


def test_bad_input_raises_typed_errors_and_the_runtime_keeps_serving(tmp_path):
    good = alt.Chart(cars()).mark_bar().encode(x="Origin", y="count()")
    with pytest.raises(vl.SpecError, match="Unexpected end of input"):
        vl.to_vega(good.transform_filter("datum.Horsepower >"))
    # vega.js reads a missing field as undefined (`'' + undefined` is "undefined"): so
    # does the server (a nominal channel, so no validity filter drops the rows).
    unknown = alt.Chart(cars()).mark_point().encode(x="Origin", color="y:N").transform_calculate(y="'' + datum.nosuch")
    _, warnings = vl.to_vega(unknown)
    assert not [w for w in warnings if w["type"] == "client_transforms"], warnings
    frame = vl.transformed_data(unknown)
    assert len(frame) == len(cars()) and (frame["y"] == "undefined").all(), frame
    # A file the browser loads itself is left to it; a lake table only the server reads is an error.
    outside, warnings = vl.to_vega(alt.Chart(alt.UrlData("file:///etc/passwd", format=alt.CsvDataFormat(type="csv"))).mark_point().encode(x="a:N"))
    assert any("outside the allowed roots" in w["message"] for w in warnings if w["type"] == "client_transforms"), warnings
    assert "root:" not in json.dumps(outside)
    with pytest.raises(vl.ForbiddenError, match="outside the allowed roots"):
        vl.to_vega(alt.Chart(alt.UrlData("file:///etc/nothing.parquet")).mark_point().encode(x="a:N"))
    with pytest.raises(vl.DataError, match="no Parquet files|No such file|not found"):
        vl.parquet(tmp_path / "missing.parquet")
    with pytest.raises(vl.EngineError, match="cannot connect"):
        vl.Runtime("ballista://127.0.0.1:9")
    client, _ = vl.to_vega(good)
    assert client["data"][0]["values"]


def test_only_the_columns_a_chart_mentions_reach_the_runtime():
    from vegalake._altair import _chart_to_vega
    from vegalake._tables import tables_of

    chart = alt.Chart(cars()).mark_bar().encode(x="Origin", y="mean(Horsepower)")
    ((_, table),) = tables_of(_chart_to_vega(chart), only_mentioned=True).values()
    assert sorted(table.column_names) == ["Horsepower", "Origin"]
    # A tooltip of whole rows may show any field: every column goes.
    whole = alt.Chart(cars()).mark_point(tooltip={"content": "data"}).encode(x="Horsepower")
    ((_, table),) = tables_of(_chart_to_vega(whole), only_mentioned=True).values()
    assert len(table.column_names) == len(cars().columns)


CTRL_C = r"""
import logging, os, signal
import numpy as np, pandas as pd
import vegalake as vl

n = 2_000_000
frame = pd.DataFrame({"k": np.arange(n), "v": np.ones(n)})
count = [{"type": "aggregate", "groupby": ["k"], "ops": ["sum"], "fields": ["v"], "as": ["s"]},
         {"type": "aggregate", "ops": ["count"], "as": ["n"]}]
spec = {
    "data": [{"name": "t", "url": "vegafusion+dataset://t", "transform": count},
             {"name": "u", "url": "vegafusion+dataset://t", "transform": count}],
    "marks": [{"type": "rect", "from": {"data": d}, "encode": {"update": {"x": {"field": "n"}}}} for d in "tu"],
}
runtime = vl.Runtime()


class PressCtrlC(logging.Handler):
    # The runtime logs each query it has run, from its own thread, while the call
    # is still under way: Ctrl-C is pressed then, not at some moment of a clock.
    def emit(self, record):
        if self.armed:
            self.armed = False
            os.kill(os.getpid(), signal.SIGINT)


press = PressCtrlC()
press.armed = True
logger = logging.getLogger("vegalake")
logger.setLevel(logging.INFO)
logger.addHandler(press)
logger.propagate = False
try:
    runtime.pre_transform_spec(spec, inline_datasets={"t": frame})
    print("finished")
except KeyboardInterrupt:
    print("interrupted")
small = pd.DataFrame({"k": [1, 1, 2], "v": [1.0, 2.0, 3.0]})
client, _ = runtime.pre_transform_spec(spec, inline_datasets={"t": small})
print(client["data"][0]["values"])
"""


def test_ctrl_c_interrupts_a_running_chart_and_the_runtime_keeps_serving():
    out = subprocess.run([sys.executable, "-c", CTRL_C], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "interrupted"
    assert out[1] == "[{'n': 2}]"


def test_a_standalone_crossfilter_stays_interactive_unless_it_would_ship_too_many_rows():
    def crossfilter(frame: pd.DataFrame):
        brush = alt.selection_interval(encodings=["x"])
        base = alt.Chart(frame).mark_bar().encode(y="count()")
        return base.encode(alt.X("x:Q", bin=True)).add_params(brush) | base.encode(alt.X("g:N")).transform_filter(brush)

    small, warnings = vl.to_vega(crossfilter(big_frame(1_000)))
    assert not [w for w in warnings if w["type"] == "interactions_need_kernel"]
    assert any(t["type"] == "filter" for d in small["data"] for t in d.get("transform", [])), "the brush filters in the browser"
    big, warnings = vl.to_vega(crossfilter(big_frame(150_000)))
    assert [w["type"] for w in warnings] == ["interactions_need_kernel"]
    assert "150000 rows" in warnings[0]["message"]
    assert sum(len(d.get("values", [])) for d in big["data"]) < 100


def test_a_query_past_the_memory_limit_raises_memory_limit_error():
    frame = pd.DataFrame({"name": [f"n{i}" for i in range(50_000)], "v": range(50_000)})
    spec = {
        "data": [
            {"name": "t", "url": "vegafusion+dataset://frame", "transform": [{"type": "aggregate", "groupby": ["name"], "ops": ["sum"], "fields": ["v"]}]}
        ],
        "marks": [{"type": "text", "from": {"data": "t"}, "encode": {"update": {"text": {"field": "name"}}}}],
    }
    with pytest.raises(vl.MemoryLimitError, match="memory limit"):
        vl.Runtime(memory_limit=1024).pre_transform_spec(spec, inline_datasets={"frame": frame}, row_limit=10)
    client, _ = vl.Runtime(memory_limit=256 << 20).pre_transform_spec(spec, inline_datasets={"frame": frame}, row_limit=10)
    assert len(client["data"][0]["values"]) == 10
