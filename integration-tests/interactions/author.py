#!/usr/bin/env python3
"""Writes the interaction suite: specs (Vega-Lite or Vega) and the updates a client
sends for each (lists of {namespace, name, scope, value}, as `vegalake replay` and
`ChartState.update` take them). Expected outputs come from vega.js
(`../harness/regenerate-interactions.sh`)."""
import json, os

here = os.path.dirname(os.path.abspath(__file__))
VL = "https://vega.github.io/schema/vega-lite/v6.json"
VG = "https://vega.github.io/schema/vega/v6.json"


def store(name, rows):
    return [{"namespace": "data", "name": name, "scope": [], "value": rows}]


def signal(name, value):
    return [{"namespace": "signal", "name": name, "scope": [], "value": value}]


def interval(unit, *fields):
    """A Vega-Lite interval selection store entry: (field, channel, [lo, hi])..."""
    return {"unit": unit, "fields": [{"field": f, "channel": c, "type": "R"} for f, c, _ in fields], "values": [v for _, _, v in fields]}


def point(field, value):
    return {"unit": "", "fields": [{"field": field, "type": "E"}], "values": [value]}


specs = {}

specs["brush_x_bars"] = ({
    "$schema": VL, "data": {"url": "data/cars.json"},
    "vconcat": [
        {"params": [{"name": "brush", "select": {"type": "interval", "encodings": ["x"]}}],
         "mark": "point", "encoding": {"x": {"field": "Horsepower", "type": "quantitative"}, "y": {"field": "Miles_per_Gallon", "type": "quantitative"}}},
        {"transform": [{"filter": {"param": "brush"}}], "mark": "bar",
         "encoding": {"x": {"field": "Origin", "type": "nominal"}, "y": {"aggregate": "count"}}}]},
    [store("brush_store", [interval("concat_0", ("Horsepower", "x", [90, 150]))]),
     store("brush_store", [interval("concat_0", ("Horsepower", "x", [40, 80]))]),
     store("brush_store", [])])

specs["brush_xy_histogram"] = ({
    "$schema": VL, "data": {"url": "data/cars.json"},
    "hconcat": [
        {"params": [{"name": "brush", "select": {"type": "interval"}}], "mark": "point",
         "encoding": {"x": {"field": "Horsepower", "type": "quantitative"}, "y": {"field": "Miles_per_Gallon", "type": "quantitative"}}},
        {"transform": [{"filter": {"param": "brush"}}], "mark": "bar",
         "encoding": {"x": {"field": "Acceleration", "bin": True}, "y": {"aggregate": "count"}}}]},
    [store("brush_store", [interval("concat_0", ("Horsepower", "x", [80, 160]), ("Miles_per_Gallon", "y", [10, 25]))]),
     store("brush_store", [interval("concat_0", ("Horsepower", "x", [50, 100]), ("Miles_per_Gallon", "y", [25, 40]))]),
     store("brush_store", [])])

specs["point_fields_bars"] = ({
    "$schema": VL, "data": {"url": "data/cars.json"},
    "params": [{"name": "pick", "select": {"type": "point", "fields": ["Origin"]}}],
    "transform": [{"filter": {"param": "pick"}}], "mark": "bar",
    "encoding": {"x": {"field": "Cylinders", "type": "ordinal"}, "y": {"aggregate": "mean", "field": "Horsepower"}}},
    [store("pick_store", [point("Origin", "Japan")]),
     store("pick_store", [point("Origin", "Japan"), point("Origin", "Europe")]),
     store("pick_store", [])])

specs["legend_selection"] = ({
    "$schema": VL, "data": {"url": "data/cars.json"},
    "params": [{"name": "org", "select": {"type": "point", "fields": ["Origin"]}, "bind": "legend"}],
    "transform": [{"filter": {"param": "org"}}], "mark": "line",
    "encoding": {"x": {"field": "Year", "timeUnit": "year"}, "y": {"aggregate": "mean", "field": "Miles_per_Gallon"},
                 "color": {"field": "Origin", "type": "nominal"}}},
    [store("org_store", [point("Origin", "USA")]), store("org_store", [point("Origin", "Europe")]), store("org_store", [])])

crossfilter = json.load(open(os.path.join(here, "..", "specs", "vl_crossfilter_hist.vl.json")))
crossfilter.pop("usermeta", None)
specs["crossfilter_three_histograms"] = (crossfilter, [
    store("brush_store", [interval("child__column_delay_layer_0", ("delay", "x", [-10, 40]))]),
    store("brush_store", [interval("child__column_distance_layer_0", ("distance", "x", [500, 1500]))]),
    store("brush_store", [interval("child__column_time_layer_0", ("time", "x", [6, 12]))]),
    store("brush_store", [])])

# The same crossfilter over Parquet, brushed 20 times: fractional bounds on integer
# columns, reversed bounds, bounds outside the domain, a brush moved along a view,
# and cleared (the service's tests send these over HTTP and gRPC).
crossfilter_parquet = json.loads(json.dumps(crossfilter))
crossfilter_parquet["data"] = {"url": "data/flights-2k.parquet"}
BRUSHES = [("delay", [-10, 40]), ("delay", [-9.5, 40.25]), ("delay", [40, -10]), ("delay", [-500, -20]),
           ("delay", [100, 900]), ("distance", [500, 1500]), ("distance", [1499.5, 500.5]), ("distance", [0, 100]),
           ("distance", [-1000, 10000]), ("distance", [2000, 2000]), ("time", [6, 12]), ("time", [6.25, 11.75]),
           ("time", [23, 0]), ("time", [-5, 3]), ("time", [12, 12.5]), ("delay", [0, 0]), ("delay", [-5, 5]),
           ("distance", [700, 900]), ("time", [18, 30])]
specs["crossfilter_parquet"] = (crossfilter_parquet, [
    store("brush_store", [interval(f"child__column_{field}_layer_0", (field, "x", bounds))]) for field, bounds in BRUSHES
] + [store("brush_store", [])])

# The same crossfilter brushed 100 times per view at random (a fixed seed): bounds on
# data values and on bin edges, fractional bounds on integer columns, reversed,
# outside the domain, empty ranges, and cleared now and then. After the first brush
# of a view every answer comes from a brush index: this compares them with vega.js.
def random_brushes(seed, per_view):
    import random
    rng = random.Random(seed)
    rows = json.load(open(os.path.join(here, "..", "datasets", "data", "flights-2k.json")))
    hours = lambda r: int(r["date"].split(" ")[1].split(":")[0])
    values = {"delay": [r["delay"] for r in rows], "distance": [r["distance"] for r in rows], "time": [hours(r) for r in rows]}
    domain = {"delay": (-60, 370, 20), "distance": (0, 4200, 200), "time": (0, 24, 1)}

    def bound(field):
        lo, hi, step = domain[field]
        kind = rng.randrange(5)
        if kind == 0:
            return rng.choice(values[field])
        if kind == 1:
            return lo + step * rng.randrange(int((hi - lo) / step) + 1)
        if kind == 2:
            return round(rng.choice(values[field]) + rng.choice([-0.5, 0.25, 0.5]), 2)
        if kind == 3:
            return rng.choice([lo - 1000, hi + 1000, lo - step, hi + step])
        return round(lo + rng.random() * (hi - lo), 3)

    updates = []
    for i in range(3 * per_view):
        field = ["delay", "distance", "time"][i % 3]
        if rng.random() < 0.05:
            updates.append(store("brush_store", []))
        a = bound(field)
        b = a if rng.random() < 0.05 else bound(field)
        updates.append(store("brush_store", [interval(f"child__column_{field}_layer_0", (field, "x", [a, b]))]))
    return updates


specs["crossfilter_random_brushes"] = (crossfilter_parquet, random_brushes(19, 100))

specs["zoomable_heatmap"] = ({
    "$schema": VG, "width": 300, "height": 200,
    "signals": [
        {"name": "xdom", "value": [-60, 180], "on": [{"events": "wheel", "update": "[xdom[0] * 0.9, xdom[1] * 0.9]"}]},
        {"name": "ydom", "value": [0, 2500], "on": [{"events": "wheel", "update": "[ydom[0], ydom[1] * 0.9]"}]}],
    "data": [
        {"name": "flights", "url": "data/flights-2k.json"},
        {"name": "cells", "source": "flights", "transform": [
            {"type": "filter", "expr": "inrange(datum.delay, xdom) && inrange(datum.distance, ydom)"},
            {"type": "bin", "field": "delay", "extent": {"signal": "xdom"}, "maxbins": 20, "as": ["d0", "d1"]},
            {"type": "bin", "field": "distance", "extent": {"signal": "ydom"}, "maxbins": 20, "as": ["k0", "k1"]},
            {"type": "aggregate", "groupby": ["d0", "d1", "k0", "k1"], "ops": ["count"], "as": ["n"]}]}],
    "scales": [
        {"name": "x", "type": "linear", "domain": {"signal": "xdom"}, "range": "width", "zero": False},
        {"name": "y", "type": "linear", "domain": {"signal": "ydom"}, "range": "height", "zero": False},
        {"name": "c", "type": "linear", "domain": {"data": "cells", "field": "n"}, "range": "heatmap"}],
    "marks": [{"type": "rect", "from": {"data": "cells"}, "encode": {"update": {
        "x": {"scale": "x", "field": "d0"}, "x2": {"scale": "x", "field": "d1"},
        "y": {"scale": "y", "field": "k0"}, "y2": {"scale": "y", "field": "k1"}, "fill": {"scale": "c", "field": "n"}}}}]},
    [signal("xdom", [-20, 60]) + signal("ydom", [200, 1200]), signal("xdom", [0, 20]), signal("ydom", [0, 2500]) + signal("xdom", [-60, 180])])

specs["slider_year_filter"] = ({
    "$schema": VL, "data": {"url": "data/cars.json"},
    "params": [{"name": "minyear", "value": 1970, "bind": {"input": "range", "min": 1970, "max": 1982, "step": 1}}],
    "transform": [{"filter": "year(datum.Year) >= minyear"}], "mark": "bar",
    "encoding": {"x": {"field": "Horsepower", "bin": {"maxbins": 15}}, "y": {"aggregate": "count"}}},
    [signal("minyear", 1975), signal("minyear", 1980), signal("minyear", 1990)])

specs["slider_maxbins"] = ({
    "$schema": VG,
    "signals": [{"name": "maxbins", "value": 10, "bind": {"input": "range", "min": 2, "max": 60}}],
    "data": [
        {"name": "cars", "url": "data/cars.json"},
        {"name": "extent", "source": "cars", "transform": [{"type": "extent", "field": "Horsepower", "signal": "hp_extent"}]},
        {"name": "bins", "source": "cars", "transform": [
            {"type": "bin", "field": "Horsepower", "extent": {"signal": "hp_extent"}, "maxbins": {"signal": "maxbins"}, "signal": "hp_bins"},
            {"type": "aggregate", "groupby": ["bin0", "bin1"], "ops": ["count"], "as": ["n"]}]}],
    "marks": [{"type": "rect", "from": {"data": "bins"}, "encode": {"update": {"x": {"field": "bin0"}, "x2": {"field": "bin1"}, "y": {"field": "n"}}}}]},
    [signal("maxbins", 5), signal("maxbins", 40), signal("maxbins", 5)])

specs["point_ids"] = ({
    "$schema": VL, "data": {"url": "data/cars.json"},
    "params": [{"name": "pick", "select": "point"}],
    "transform": [{"filter": {"param": "pick"}}], "mark": "point",
    "encoding": {"x": {"field": "Horsepower", "type": "quantitative"}, "y": {"field": "Miles_per_Gallon", "type": "quantitative"}}},
    [store("pick_store", [{"unit": "", "_vgsid_": 3}]), store("pick_store", [{"unit": "", "_vgsid_": 3}, {"unit": "", "_vgsid_": 40}]), store("pick_store", [])])

specs["brush_dates_weather"] = ({
    "$schema": VL, "data": {"url": "data/seattle-weather.csv"},
    "vconcat": [
        {"params": [{"name": "when", "select": {"type": "interval", "encodings": ["x"]}}], "mark": "point",
         "encoding": {"x": {"field": "date", "type": "temporal"}, "y": {"field": "temp_max", "type": "quantitative"}}},
        {"transform": [{"filter": {"param": "when"}}], "mark": "bar",
         "encoding": {"x": {"field": "weather", "type": "nominal"}, "y": {"aggregate": "mean", "field": "precipitation"}}}]},
    [store("when_store", [interval("concat_0", ("date", "x", [1325376000000, 1356998400000]))]),
     store("when_store", [interval("concat_0", ("date", "x", [1420070400000, 1425168000000]))]),
     store("when_store", [])])

for name, (spec, updates) in specs.items():
    ext = "vl.json" if spec["$schema"] == VL else "vg.json"
    with open(os.path.join(here, f"{name}.{ext}"), "w") as f:
        json.dump(spec, f, indent=1)
    with open(os.path.join(here, f"{name}.updates.json"), "w") as f:
        json.dump(updates, f, indent=1)
print(f"wrote {len(specs)} interaction specs")
