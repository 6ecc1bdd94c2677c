"""The Jupyter widget's kernel side: what it gives the browser, how it answers
the browser's comm messages (datasets as Arrow IPC), its params and selections,
errors, the renderer and its fallback. The browser side is client/'s tests (Node)
and client/e2e (JupyterLab and chromium)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import vegalake as vl
from vegalake._vegalake import arrow_ipc_to_rows
from vegalake._widget import encode


def flights(n: int = 50_000) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({"delay": np.round(rng.normal(10, 20, n), 1), "distance": np.round(rng.uniform(0, 2000, n))})


def crossfilter(frame: pd.DataFrame) -> alt.HConcatChart:
    brush = alt.selection_interval(encodings=["x"], name="brush")
    width = alt.param(name="width_param", value=3)

    def hist(field: str) -> alt.Chart:
        return alt.Chart(frame).mark_bar().encode(x=alt.X(field, bin=alt.Bin(maxbins=20)), y="count()")

    return alt.hconcat(hist("delay").add_params(brush, width), hist("distance").transform_filter(brush))


def store(lo: float, hi: float) -> list[dict]:
    return [{"unit": "concat_0", "fields": [{"field": "delay", "channel": "x", "type": "R"}], "values": [[lo, hi]]}]


class Comm:
    """What the widget sends the browser."""

    def __init__(self, widget: vl.ChartWidget) -> None:
        self.messages: list[tuple[dict, list]] = []
        widget.send = lambda content, buffers=None: self.messages.append((content, buffers or []))


def brush_message(seq: int, lo: float, hi: float) -> dict:
    return {
        "type": "update",
        "seq": seq,
        "changes": [
            {"namespace": "data", "name": "brush_store", "scope": [], "value": store(lo, hi)},
            {"namespace": "signal", "name": "brush", "scope": [], "value": {"delay": [lo, hi]}},
        ],
    }


def test_the_browser_gets_the_client_spec_with_the_servers_rows_and_the_plan():
    widget = vl.ChartWidget(crossfilter(flights()))
    shipped = {d["name"]: d["values"] for d in widget.spec["data"] if "values" in d}
    assert shipped and all(len(rows) <= 20 for rows in shipped.values()), "aggregates only, not 50,000 rows"
    sent = {(v["namespace"], v["name"]) for v in widget.plan["client_to_server"]}
    assert ("data", "brush_store") in sent
    assert ("signal", "width_param") in sent, "the chart's own params are watched too"
    # The bundle itself (vega, vega-embed, the client), nothing to fetch.
    assert len(widget._esm) > 500_000 and "import(" not in widget._esm and "cdn." not in widget._esm


def test_an_update_answers_with_arrow_buffers_equal_to_the_chart_states_values():
    frame = flights()
    widget = vl.ChartWidget(crossfilter(frame))
    comm = Comm(widget)
    reference = vl.runtime.open_chart(vl._altair._chart_to_vega(crossfilter(frame)), interactivity="server")
    widget._on_message(widget, brush_message(1, 0, 20), [])
    ((content, buffers),) = comm.messages
    assert content["type"] == "update" and content["seq"] == 1
    datasets = [c for c in content["changes"] if c["namespace"] == "data"]
    assert datasets and all("arrow" in c and "value" not in c for c in datasets)
    decoded = {c["name"]: json.loads(arrow_ipc_to_rows(buffers[c["arrow"]])) for c in datasets}
    expected = reference.update(brush_message(1, 0, 20)["changes"])
    assert decoded == {c["name"]: c["value"] for c in expected if c["namespace"] == "data"}
    counts = sum(r["__count"] for rows in decoded.values() for r in rows)
    assert counts == int(((frame.delay >= 0) & (frame.delay <= 20)).sum())
    assert sum(len(b) for b in buffers) < 4_000, "kilobytes per brush move"


def test_answers_keep_missing_fields_missing_and_nested_values_whole():
    rows = [{"a": 1, "b": [1, {"c": 2}]}, {"b": "text"}, {"a": None, "c": 2.5}]
    signal = {"namespace": "signal", "name": "s", "scope": [], "value": [1]}
    message, buffers = encode(3, [{"namespace": "data", "name": "d", "scope": [], "value": rows}, signal])
    assert message == {"type": "update", "seq": 3, "changes": [{"namespace": "data", "name": "d", "scope": [], "arrow": 0}, signal]}
    assert json.loads(arrow_ipc_to_rows(buffers[0])) == rows
    # Typed where a field has one type, for any Arrow reader.
    schema = pa.ipc.open_stream(buffers[0]).schema
    assert schema.field("c").type == pa.float64() and schema.field("b").type == pa.string()


def test_params_selections_and_transformed_data_follow_the_browser():
    widget = vl.ChartWidget(crossfilter(flights()))
    Comm(widget)
    seen = []
    widget.observe(lambda change: seen.append(change["new"]), names="selections")
    assert widget.params["width_param"] == 3
    before = widget.transformed_data()
    widget._on_message(widget, brush_message(1, 0, 20), [])
    widget._on_message(widget, {"type": "update", "seq": 2, "changes": [{"namespace": "signal", "name": "width_param", "scope": [], "value": 7}]}, [])
    assert widget.params == {"brush": {"delay": [0, 20]}, "width_param": 7}
    assert widget.selections == {"brush": {"delay": [0, 20]}}
    assert seen and seen[-1] == {"brush": {"delay": [0, 20]}}
    after = widget.transformed_data()
    assert set(after) == set(before)
    changed = [name for name in after if after[name] != before[name]]
    assert changed, "the brushed view's data is the current state's"
    assert all(isinstance(t, pa.Table) for t in after.values())


def test_a_bad_update_answers_with_an_error_and_the_next_one_works():
    widget = vl.ChartWidget(crossfilter(flights()))
    comm = Comm(widget)
    bad = {"type": "update", "seq": 1, "changes": [{"namespace": "data", "name": "brush_store", "scope": [], "value": "nonsense"}]}
    widget._on_message(widget, bad, [])
    widget._on_message(widget, {"type": "update", "seq": 2, "changes": [{"namespace": "data"}]}, [])
    widget._on_message(widget, brush_message(3, 0, 20), [])
    (first, _), (second, _), (third, _) = comm.messages
    assert first["type"] == "error" and first["seq"] == 1 and "vlSelectionTest" in first["message"]
    assert second["type"] == "error" and second["seq"] == 2
    assert third["type"] == "update" and third["seq"] == 3 and widget.error == ""
    widget._on_message(widget, {"type": "something else"}, [])
    assert len(comm.messages) == 3, "messages the widget does not speak are ignored"


def test_the_renderer_shows_a_widget_with_the_html_fallback():
    names = {e.name for e in entry_points(group="altair.vegalite.v6.renderer")} | {e.name for e in entry_points(group="altair.vegalite.v5.renderer")}
    assert "vegalake-widget" in names
    vl.enable(widget=True)
    try:
        assert alt.renderers.active == "vegalake-widget"
        with alt.data_transformers.enable("vegalake"):
            spec = crossfilter(flights(1_000)).to_dict()
        shown = alt.renderers.get()(spec)
        data = shown[0] if isinstance(shown, tuple) else shown
        assert "application/vnd.jupyter.widget-view+json" in data
        # 1,000 rows: the fallback page brushes in the browser alone.
        assert "vegaEmbed(" in data["text/html"] and "interactions that change data need the server" not in data["text/html"]
    finally:
        vl.enable()
    # Over the browser's budget, the fallback is the chart as it stands, and says so.
    vl.enable(row_limit=500)
    try:
        shown = vl.ChartWidget(crossfilter(flights(1_000)))._repr_mimebundle_()
        data = shown[0] if isinstance(shown, tuple) else shown
        assert "interactions that change data need the server" in data["text/html"]
    finally:
        vl.enable()


def test_without_anywidget_the_widget_says_what_to_install():
    code = "import sys; sys.modules['anywidget'] = None\nimport vegalake as vl\ntry:\n    vl.ChartWidget\nexcept ImportError as e:\n    print(e)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "vegalake.ChartWidget needs anywidget (pip install 'vegalake[widget]')"


def test_bad_charts_raise_typed_errors_before_any_widget_exists():
    with pytest.raises(vl.SpecError):
        vl.ChartWidget({"$schema": "https://vega.github.io/schema/vega/v6.json", "data": [{"name": "t", "transform": [{"type": "nope"}]}]})


def test_the_row_limit_holds_for_what_the_widget_sends():
    vl.enable(row_limit=10)
    try:
        with pytest.raises(vl.RowLimitError, match=r"dataset '.+' would send \d+ rows .* row limit of 10"):
            vl.ChartWidget(alt.Chart(flights(100)).mark_point().encode(x="delay:Q", y="distance:Q"))
    finally:
        vl.enable()
