#!/usr/bin/env python3
"""Writes the conformance suite's specs (one file per case) into this directory.

The cases are authored here as data so that families of related specs (every
function, every aggregate op, every time unit in several zones) stay readable.
After changing this file: run it, then ../harness/regenerate.sh, then review the
expected outputs before committing them.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
VEGA = "https://vega.github.io/schema/vega/v6.json"
VL = "https://vega.github.io/schema/vega-lite/v6.json"
written = []


def vg(name, data, signals=None, meta=None, extra=None):
    spec = {"$schema": VEGA, "data": data, **(extra or {})}
    if signals:
        spec["signals"] = signals
    if meta:
        spec["usermeta"] = {"vegalake": meta}
    write(name + ".vg.json", spec)


def vl(name, spec, meta=None):
    spec = {"$schema": VL, **spec}
    if meta:
        spec["usermeta"] = {"vegalake": meta}
    write(name + ".vl.json", spec)


def write(file, spec):
    written.append(file)
    with open(os.path.join(HERE, file), "w") as f:
        json.dump(spec, f, indent=1)
        f.write("\n")


# Inline rows with the awkward cases: nulls, empty strings, numeric strings,
# negative and tiny numbers, spaces in field names, dates near DST and year ends.
MIX = [
    {"a": 1, "b": "x", "c": True, "d": "2020-01-01", "e e": 2.5},
    {"a": -3.5, "b": "y y", "c": False, "d": "2020-03-08T02:30:00", "e e": None},
    {"a": None, "b": "", "c": None, "d": None, "e e": 0},
    {"a": 0, "b": None, "c": True, "d": "2019-12-31T23:59:59", "e e": -1},
    {"a": 10, "b": "10", "c": False, "d": "2021-11-07T01:30:00", "e e": 1e-7},
    {"a": 2.5, "b": "Y", "c": True, "d": "2021-01-03T12:00:00.250", "e e": 123456789.125},
]
MIX_SOURCE = {"name": "src", "values": MIX, "format": {"parse": {"d": "date"}}}


def formulas(name, exprs, meta=None, signals=None, source=MIX_SOURCE):
    """One dataset per expression, so each is judged on its own."""
    data = [source]
    for i, e in enumerate(exprs):
        data.append({"name": f"f{i}", "source": source["name"], "transform": [{"type": "formula", "expr": e, "as": "v"}]})
    vg(name, data, signals=signals, meta=meta)


formulas("expr_arithmetic", [
    "datum.a + 1", "datum.a - datum['e e']", "datum.a * 2", "datum.a / 0", "datum.a % 3", "-datum.a",
    "(datum.a + 2) * (datum.a - 2) / 4", "0 / 0", "1 / 0 - 1 / 0", "datum['e e'] * 1e30", "5 % -3", "-7 % 2",
])
formulas("expr_coercion", [
    "+datum.b", "datum.b + datum.a", "datum.a + datum.b", "'x' + datum.c", "datum.c + 1", "datum.a + ''",
    "datum.b + null", "datum.c * 3", "datum.b * 2", "'' + datum['e e']", "datum.a - '1'", "null + 1",
])
formulas("expr_comparison", [
    "datum.a > 2", "datum.b < 'y'", "datum.b > 5", "datum.a == datum.b", "datum.a === 10", "datum.b == null",
    "datum.b === null", "datum.a != 0", "datum.a !== null", "datum.c == 1", "datum.a <= datum['e e']",
    "datum.b >= 'Y'", "null == 0", "null < 1", "datum.a == '10'", "datum.c === true",
])
formulas("expr_logic", [
    "datum.a ? 'yes' : 'no'", "datum.b ? 1 : 0", "!datum.a", "datum.a && datum['e e']", "datum.a || datum['e e']",
    "datum.b || 'empty'", "datum.c && datum.a > 0", "!(datum.a > 1) || datum.c", "datum.a > 0 ? datum.b : null",
    "if(datum.a > 0, 'pos', 'not pos')", "!!datum.b", "datum.d ? 1 : 0",
])
formulas("expr_math", [
    "abs(datum.a)", "ceil(datum.a)", "floor(datum.a)", "round(datum.a)", "round(-2.5)", "round(2.5)", "sqrt(datum.a)",
    "exp(datum.a)", "log(datum.a)", "pow(datum.a, 2)", "pow(2, datum.a)", "sin(datum.a)", "cos(datum.a)", "tan(datum.a)",
    "asin(datum.a / 10)", "acos(datum.a / 10)", "atan(datum.a)", "atan2(datum.a, 2)", "hypot(datum.a, 4)",
])
formulas("expr_math_variadic", [
    "min(datum.a, 1)", "max(datum.a, datum['e e'])", "max(datum.a, 0, 5)", "min()", "max()", "min(datum.a)",
    "clamp(datum.a, 0, 5)", "clamp(datum.a, -1, 1)", "PI * datum.a", "E", "SQRT2 + SQRT1_2", "LN10 + LN2",
    "LOG2E + LOG10E", "MAX_VALUE", "MIN_VALUE", "max(datum.b, 3)",
])
# JavaScript ignores arguments past a function's parameters (vega.js refuses extra
# ones only to `if` and `clamp`).
formulas("expr_extra_arguments", [
    "round(datum.a, 2)", "abs(datum.a, 1, 2)", "pow(datum.a, 2, 5)", "upper(datum.b, 3)", "year(datum.d, 1)",
    "parseInt('ff', 16, 3)", "substring('abcdef', 1, 3, 9)", "timeFormat(datum.d, '%Y', 1)", "isValid(datum.a, 0)",
    "toNumber(datum.b, 2)", "length(datum.b || '', 9)", "atan2(datum.a, 2, 7)",
])
formulas("expr_strings", [
    "length(datum.b || '')", "upper(datum.b)", "lower(datum.b)", "trim('  a b  ')", "substring(datum.b, 1)",
    "substring('abcdef', 4, 1)", "slice('abcdef', -2)", "slice(datum.b || '', 0, 1)", "indexof(datum.b || '', 'y')",
    "lastindexof('abcabc', 'bc')", "upper(datum.a)", "lower(null)", "substring('abcdef', -3, 2)", "slice('abcdef', 2, -1)",
])
formulas("expr_strings_more", [
    "replace(datum.b, 'y', 'z')", "replace('aaa', /a/g, 'b')", "replace('aAa', /a/i, '-')", "pad(datum.b, 5, '*', 'left')",
    "pad('ab', 5)", "pad('ab', 6, '-', 'center')", "truncate('abcdefghij', 5)", "truncate('abcdefghij', 5, 'left')",
    "truncate('abcdefghij', 6, 'center', '..')", "parseFloat('3.5px')", "parseInt('42abc')", "parseInt('ff', 16)",
    "parseFloat(datum.b)", "parseInt(datum.a)", "test(/^y/, datum.b)", "test(/Y/i, datum.b)", "test(regexp('^1'), datum.b)",
])
formulas("expr_types", [
    "isValid(datum.a)", "isNumber(datum.a)", "isString(datum.b)", "isBoolean(datum.c)", "isDate(datum.d)", "isNaN(datum.a)",
    "isNaN(0/0)", "isFinite(datum.a)", "isFinite(+datum.b)", "toNumber(datum.b)", "toString(datum.a)", "toBoolean(datum.b)",
    "toBoolean('false')", "toNumber(datum.c)", "isArray([1])", "isObject(datum.d)", "isValid(datum.b)", "isRegExp(/a/)",
    "toDate('2020-05-01')", "toDate(86400000)", "toString(datum.c)",
])
DATE_EXPRS = [
    "year(datum.d)", "month(datum.d)", "date(datum.d)", "day(datum.d)", "hours(datum.d)", "minutes(datum.d)",
    "seconds(datum.d)", "milliseconds(datum.d)", "quarter(datum.d)", "dayofyear(datum.d)", "week(datum.d)",
    "utcyear(datum.d)", "utcmonth(datum.d)", "utcdate(datum.d)", "utcday(datum.d)", "utchours(datum.d)",
    "utcminutes(datum.d)", "utcquarter(datum.d)", "utcdayofyear(datum.d)", "utcweek(datum.d)", "time(datum.d)",
]
DATE_MAKE = [
    "datetime(2020, 0, 31)", "datetime(2020, 1, 30, 25)", "utc(2020, 5, 1)", "datetime(2021, 2, 14, 2, 30)",
    "datetime(2021, 10, 7, 1, 30)", "datetime(99, 0, 1)", "datetime(datum.a * 1e9)", "utc(2020)", "datetime(2020, 12, 1)",
    "timeOffset('month', datum.d, 1)", "utcOffset('day', datum.d, -1)", "timeOffset('quarter', datum.d)",
    "timeOffset('week', datum.d, -2)", "timeOffset('year', datetime(2020, 1, 29), 1)", "utcOffset('hours', datum.d, 5)",
    "timeOffset('day', datum.d, 1)", "time(datetime(2020, 2, 8, 2, 30))",
]
for zone in ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/London"]:
    slug = zone.split("/")[-1].lower()
    formulas(f"expr_dates_{slug}", DATE_EXPRS, meta={"timezone": zone})
    formulas(f"expr_datetime_{slug}", DATE_MAKE, meta={"timezone": zone})

TIME_FORMATS = [
    "timeFormat(datum.d, '%Y-%m-%d %H:%M:%S.%L')", "utcFormat(datum.d, '%a %A %b %B %e %j')", "timeFormat(datum.d, '%I:%M %p %Z')",
    "utcFormat(datum.d, '%U %W %V %u %w %G %g %q')", "timeFormat(datum.d, '%c')", "timeFormat(datum.d, '%x %X')",
    "utcFormat(datum.d, '%-m/%_d/%y %Q %s %f %%')", "timeFormat(datum.a * 1e10, '%Y %B')", "monthFormat(datum.a)", "monthAbbrevFormat(3)",
    "dayFormat(datum.a)", "dayAbbrevFormat(6)", "timeParse('2021-03-14 02:30', '%Y-%m-%d %H:%M')", "utcParse('14/03/2021', '%d/%m/%Y')",
    "timeParse(datum.b, '%Y')", "utcParse('Mar 5 2020 11PM', '%b %e %Y %I%p')", "timeParse('2020-06-01T12:00:00+0530', '%Y-%m-%dT%H:%M:%S%Z')",
    "utcParse('1577836800', '%s')", "year(utcParse('2020 Q3', '%Y Q%q'))", "timeParse('bad', '%Y')",
]
for zone in ["UTC", "America/New_York", "Asia/Kolkata"]:
    slug = zone.split("/")[-1].lower()
    formulas(f"expr_time_format_{slug}", TIME_FORMATS, meta={"timezone": zone})

# Dates vega never parsed (strings, NaN, beyond JavaScript's range) print as d3
# prints an invalid Date.
formulas("expr_time_format_invalid", [
    "timeFormat(datum.d, '%Y-%m-%d %H:%M:%S.%L %f')", "utcFormat(datum.d, '%a|%A|%b|%B|%e|%j|%p|%I|%q|%Z')",
    "timeFormat(datum.d, '%c')", "utcFormat(datum.b, '%U %W %V %u %w %G %g %y %Q %s %-Y %_Y %%')",
    "timeFormat(datum.a * 1e20, '%Y')", "timeFormat(0 / 0, '%x')",
], meta={"timezone": "America/New_York"}, source={"name": "raw", "values": MIX})
ARRAY_SIGNALS = [{"name": "r", "value": [0, 5]}, {"name": "names", "value": ["x", "y y"]}, {"name": "k", "value": 3},
                 {"name": "k2", "update": "k * 2 + 1"}, {"name": "label", "update": "'n=' + k2"}]
formulas("expr_arrays", [
    "inrange(datum.a, r)", "inrange(datum.a, [5, 0])", "inrange(datum.a, r, false, true)", "indexof(names, datum.b)",
    "join(['a', 1, null], '-')", "extent([3, 1, 2])[1]", "span(r)", "peek(r)", "length(r)", "sequence(0, 1, 0.25)[3]",
    "lerp([0, 10], 0.3)", "clampRange([-5, 5], 0, 8)[1]", "reverse([1, 2])[0]", "slice([1, 2, 3], 1)[0]", "length(names)",
    "datum.a * k2", "label + datum.b", "r[1] - r[0]", "{'a': 1, 'b': 2}.b", "indexof([1, 2, 3], datum.a)",
], signals=ARRAY_SIGNALS)
formulas("expr_client_only", ["format(datum.a, '.2f')", "random()", "split(datum.b, ' ')", "now()", "timeFormat(datum.d, '%Y')"])

# --- filter ---------------------------------------------------------------
CARS = {"name": "cars", "url": "data/cars.json"}
vg("filter_cars", [CARS] + [
    {"name": f"f{i}", "source": "cars", "transform": [{"type": "filter", "expr": e}]}
    for i, e in enumerate([
        "datum.Horsepower > 150", "datum.Origin === 'Europe' && datum.Cylinders >= 6", "!isValid(datum.Horsepower)",
        "isValid(datum.Miles_per_Gallon) && isFinite(+datum.Miles_per_Gallon)", "test(/^ford/, datum.Name)",
        "datum.Year >= datetime(1980, 0, 1)", "year(datum.Year) == 1975", "indexof(['USA', 'Japan'], datum.Origin) >= 0",
        "datum.Horsepower", "false", "inrange(datum.Acceleration, [10, 12])",
    ])
], meta={"timezone": "America/New_York"})
vg("filter_mix", [MIX_SOURCE] + [
    {"name": f"f{i}", "source": "src", "transform": [{"type": "filter", "expr": e}]}
    for i, e in enumerate(["datum.a", "datum.b", "datum.b == 10", "datum.a < 1", "!datum.c", "datum['e e'] > 0", "datum.d > datetime(2020, 6, 1)"])
])

# --- aggregate --------------------------------------------------------------
ALL_OPS = ["count", "valid", "missing", "distinct", "sum", "product", "mean", "average", "variance", "variancep", "stdev", "stdevp",
           "stderr", "median", "q1", "q3", "min", "max"]
vg("aggregate_all_ops", [CARS, {"name": "by_origin", "source": "cars", "transform": [
    {"type": "aggregate", "groupby": ["Origin"], "ops": ALL_OPS, "fields": ["Horsepower"] * len(ALL_OPS)}]},
    {"name": "total", "source": "cars", "transform": [
        {"type": "aggregate", "ops": ALL_OPS, "fields": ["Miles_per_Gallon"] * len(ALL_OPS)}]}])
vg("aggregate_groupby_two", [CARS, {"name": "a", "source": "cars", "transform": [
    {"type": "aggregate", "groupby": ["Origin", "Cylinders"], "ops": ["count", "mean", "max"],
     "fields": [None, "Acceleration", "Weight_in_lbs"], "as": ["n", "acc", None]}]}])
vg("aggregate_default_count", [CARS, {"name": "a", "source": "cars", "transform": [{"type": "aggregate", "groupby": ["Cylinders"]}]},
                               {"name": "b", "source": "cars", "transform": [{"type": "aggregate"}]}])
vg("aggregate_mix", [MIX_SOURCE, {"name": "by_c", "source": "src", "transform": [
    {"type": "aggregate", "groupby": ["c"], "ops": ALL_OPS, "fields": ["a"] * len(ALL_OPS)}]},
    {"name": "by_b", "source": "src", "transform": [
        {"type": "aggregate", "groupby": ["b"], "ops": ["count", "valid", "missing", "distinct", "min", "max"], "fields": ["b"] * 6}]},
    {"name": "dates", "source": "src", "transform": [
        {"type": "aggregate", "ops": ["min", "max", "valid", "missing", "distinct"], "fields": ["d"] * 5}]}])
# vega leaves a spread of fewer than two valid values undefined, not null: later
# expressions see NaN (`center + extent`), as in Vega-Lite's error bars.
SPREAD_OPS = ["mean", "variance", "variancep", "stdev", "stdevp", "stderr"]
vg("aggregate_undefined_spreads", [MIX_SOURCE, {"name": "by_c", "source": "src", "transform": [
    {"type": "aggregate", "groupby": ["b"], "ops": SPREAD_OPS, "fields": ["a"] * len(SPREAD_OPS), "as": ["center"] + SPREAD_OPS[1:]},
    {"type": "formula", "expr": "datum.center + datum.stderr", "as": "upper"},
    {"type": "formula", "expr": "datum.variance * 2", "as": "twice"}]}])
vl("errorbar_one_value_groups", {"data": {"values": [{"g": "a", "y": 1}, {"g": "b", "y": 2}, {"g": "b", "y": 5}, {"g": "c", "y": None}]},
    "mark": {"type": "errorbar", "extent": "stderr"}, "encoding": {"x": {"field": "g", "type": "nominal"}, "y": {"field": "y", "type": "quantitative"}}})
vg("aggregate_empty", [CARS,
    {"name": "grouped", "source": "cars", "transform": [{"type": "filter", "expr": "false"}, {"type": "aggregate", "groupby": ["Origin"]}]},
    {"name": "ungrouped", "source": "cars", "transform": [{"type": "filter", "expr": "false"},
                                                         {"type": "aggregate", "ops": ["count", "sum", "mean"], "fields": [None, "Horsepower", "Horsepower"]}]}])
vg("aggregate_string_numbers", [{"name": "w", "url": "data/seattle-weather.csv", "format": {"type": "csv"}},
    {"name": "a", "source": "w", "transform": [{"type": "aggregate", "groupby": ["weather"], "ops": ["sum", "mean", "min", "max", "median"],
                                               "fields": ["precipitation", "temp_max", "temp_max", "temp_max", "wind"]}]}])
vg("aggregate_single_values", [{"name": "s", "values": [{"g": "a", "v": 5}, {"g": "b", "v": 1}, {"g": "b", "v": 3}]},
    {"name": "a", "source": "s", "transform": [{"type": "aggregate", "groupby": ["g"], "ops": ["variance", "stdev", "stderr", "variancep", "q1", "q3", "median"],
                                               "fields": ["v"] * 7}]}])
vg("aggregate_client_ops", [CARS,
    {"name": "values", "source": "cars", "transform": [{"type": "aggregate", "groupby": ["Origin"], "ops": ["values"], "fields": ["Name"]}]},
    {"name": "ci", "source": "cars", "transform": [{"type": "aggregate", "groupby": ["Origin"], "ops": ["ci0"], "fields": ["Horsepower"]}]},
    {"name": "argmax", "source": "cars", "transform": [{"type": "aggregate", "groupby": ["Origin"], "ops": ["argmax"], "fields": ["Horsepower"]}]}])

# --- extent and bin ---------------------------------------------------------
vg("extent_signals", [CARS, MIX_SOURCE,
    {"name": "e1", "source": "cars", "transform": [{"type": "extent", "field": "Horsepower", "signal": "hp"}]},
    {"name": "e2", "source": "src", "transform": [{"type": "extent", "field": "b", "signal": "bs"}]},
    {"name": "e3", "source": "src", "transform": [{"type": "filter", "expr": "false"}, {"type": "extent", "field": "a", "signal": "none"}]},
    {"name": "e4", "source": "src", "transform": [{"type": "extent", "field": "d", "signal": "ds"}]},
    {"name": "use", "source": "cars", "transform": [{"type": "filter", "expr": "datum.Horsepower == hp[1]"}]}])
BIN_CASES = {
    "bin_maxbins_10": {"maxbins": 10}, "bin_maxbins_20": {}, "bin_maxbins_30": {"maxbins": 30}, "bin_maxbins_100": {"maxbins": 100},
    "bin_step": {"step": 7}, "bin_steps": {"steps": [1, 5, 10, 50]}, "bin_minstep": {"minstep": 25}, "bin_divide": {"divide": [3]},
    "bin_nice_false": {"nice": False}, "bin_anchor": {"anchor": 3.5, "maxbins": 10}, "bin_span": {"span": 400}, "bin_base2": {"base": 2},
    "bin_interval_false": {"interval": False, "as": ["b"]}, "bin_named": {"name": "hp_bins", "as": ["lo", "hi"]},
}
for name, extra in BIN_CASES.items():
    vg(name, [CARS, {"name": "binned", "source": "cars", "transform": [
        {"type": "extent", "field": "Horsepower", "signal": "hp_extent"},
        {"type": "bin", "field": "Horsepower", "extent": {"signal": "hp_extent"}, "signal": "hp_bins_signal", **extra}]},
        {"name": "counts", "source": "binned", "transform": [
            {"type": "aggregate", "groupby": [(extra.get("as") or ["bin0"])[0]]}]}])
vg("bin_mix_nulls_nan", [MIX_SOURCE, {"name": "b", "source": "src", "transform": [
    {"type": "formula", "expr": "datum.a == null ? 0/0 : datum.a", "as": "n"},
    {"type": "bin", "field": "a", "extent": [-5, 12], "maxbins": 5},
    {"type": "bin", "field": "n", "extent": [0, 5], "maxbins": 5, "as": ["n0", "n1"]}]}])
vg("bin_degenerate_extent", [MIX_SOURCE, {"name": "b", "source": "src", "transform": [
    {"type": "bin", "field": "a", "extent": [3, 3], "signal": "bins"}]}])
vg("bin_fields_with_spaces", [MIX_SOURCE, {"name": "b", "source": "src", "transform": [
    {"type": "bin", "field": "e e", "extent": [-1, 3], "maxbins": 4, "as": ["bin start", "bin end"]}]}])

# --- timeunit ---------------------------------------------------------------
WEATHER = {"name": "w", "url": "data/seattle-weather.csv", "format": {"type": "csv", "parse": {"date": "date", "temp_max": "number"}}}
UNIT_CASES = {
    "year": ["year"], "month": ["month"], "yearmonth": ["year", "month"], "quarter": ["quarter"], "yearquarter": ["year", "quarter"],
    "week": ["week"], "yearweek": ["year", "week"], "day": ["day"], "weekday": ["week", "day"], "date": ["date"],
    "dayofyear": ["dayofyear"], "monthdate": ["month", "date"], "yearmonthdate": ["year", "month", "date"], "isoweek": ["year", "isoweek"],
}
for slug, units in UNIT_CASES.items():
    vg(f"timeunit_{slug}", [WEATHER, {"name": "t", "source": "w", "transform": [
        {"type": "timeunit", "field": "date", "units": units, "as": ["u0", "u1"]},
        {"type": "aggregate", "groupby": ["u0", "u1"], "ops": ["mean", "count"], "fields": ["temp_max", None]}]}])
DST_DATES = {"name": "dst", "values": [{"t": t} for t in [
    "2021-03-13T23:30:00", "2021-03-14T01:59:00", "2021-03-14T03:00:00", "2021-11-07T00:30:00", "2021-11-07T01:30:00",
    "2021-11-07T03:00:00", "2020-12-31T23:59:59.999", "2021-01-01T00:00:00", "2020-02-29T12:00:00", "1999-12-31T18:00:00Z"]],
    "format": {"parse": {"t": "date"}}}
for zone in ["America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]:
    slug = zone.split("/")[-1].lower()
    data = [DST_DATES]
    for units in [["hours"], ["year", "month", "date", "hours"], ["hours", "minutes"], ["date"], ["week", "day"], ["month"], ["year"]]:
        for tz in ["local", "utc"]:
            data.append({"name": "_".join(units) + "_" + tz, "source": "dst", "transform": [
                {"type": "timeunit", "field": "t", "units": units, "timezone": tz}]})
    vg(f"timeunit_dst_{slug}", data, meta={"timezone": zone})
vg("timeunit_steps", [WEATHER] + [
    {"name": f"s{i}", "source": "w", "transform": [{"type": "timeunit", "field": "date", "units": u, "step": s},
                                                  {"type": "aggregate", "groupby": ["unit0"]}]}
    for i, (u, s) in enumerate([(["year", "month"], 2), (["month"], 3), (["year", "month", "date"], 10), (["date"], 7), (["year"], 2)])])
vg("timeunit_unparsed_strings", [{"name": "s", "values": [{"d": "2020-05-17"}, {"d": "1589673600000"}, {"d": ""}, {"d": None}]},
    {"name": "t", "source": "s", "transform": [{"type": "timeunit", "field": "d", "units": ["year", "month"], "timezone": "utc"},
                                              {"type": "formula", "expr": "utcyear(datum.d)", "as": "y"}]}])
vg("timeunit_no_interval", [WEATHER, {"name": "t", "source": "w", "transform": [
    {"type": "timeunit", "field": "date", "units": ["year", "month"], "interval": False}]}])

# --- collect, project, identifier, sequence, fold ----------------------------
vg("collect_sort", [CARS,
    {"name": "by_hp_desc", "source": "cars", "transform": [{"type": "collect", "sort": {"field": "Horsepower", "order": "descending"}}]},
    {"name": "by_origin_name", "source": "cars", "transform": [{"type": "collect", "sort": {"field": ["Origin", "Name"], "order": ["ascending", "descending"]}}]},
    {"name": "by_mpg", "source": "cars", "transform": [{"type": "collect", "sort": {"field": "Miles_per_Gallon"}}]}])
vg("collect_mix", [MIX_SOURCE,
    {"name": "by_b", "source": "src", "transform": [{"type": "collect", "sort": {"field": "b"}}]},
    {"name": "by_a_desc", "source": "src", "transform": [{"type": "formula", "expr": "datum.a == 0 ? 0/0 : datum.a", "as": "a"},
                                                        {"type": "collect", "sort": {"field": "a", "order": "descending"}}]},
    {"name": "by_d", "source": "src", "transform": [{"type": "collect", "sort": {"field": ["d"]}}]},
    {"name": "plain", "source": "src", "transform": [{"type": "collect"}]}])
vg("project", [CARS,
    {"name": "p1", "source": "cars", "transform": [{"type": "project", "fields": ["Name", "Horsepower"]}]},
    {"name": "p2", "source": "cars", "transform": [{"type": "project", "fields": ["Name", "Origin", "Nope"], "as": ["name", "origin"]}]}])
vg("identifier", [MIX_SOURCE, {"name": "ids", "source": "src", "transform": [{"type": "identifier", "as": "id"}]},
                  {"name": "ids_after_filter", "source": "src", "transform": [{"type": "filter", "expr": "datum.a > 0"}, {"type": "identifier", "as": "id"}]}])
vg("sequence", [
    {"name": "s1", "transform": [{"type": "sequence", "start": 0, "stop": 10}]},
    {"name": "s2", "transform": [{"type": "sequence", "start": 0, "stop": 1, "step": 0.1, "as": "x"}]},
    {"name": "s3", "transform": [{"type": "sequence", "start": 5, "stop": -5, "step": -1.5}]},
    {"name": "s4", "transform": [{"type": "sequence", "start": 3, "stop": 3}]},
    {"name": "s5", "transform": [{"type": "sequence", "start": 0, "stop": {"signal": "n"}},
                                 {"type": "formula", "expr": "datum.data * datum.data", "as": "sq"}]}],
   signals=[{"name": "n", "value": 7}])
vg("fold", [CARS,
    {"name": "f1", "source": "cars", "transform": [{"type": "fold", "fields": ["Horsepower", "Acceleration"]}]},
    {"name": "f2", "source": "cars", "transform": [{"type": "filter", "expr": "datum.Cylinders == 3"},
                                                  {"type": "fold", "fields": ["Name", "Origin"], "as": ["k", "v"]}]},
    {"name": "f3", "source": "cars", "transform": [{"type": "fold", "fields": ["Name", "Horsepower"]}]}])

# --- window, joinaggregate, stack ---------------------------------------------
vg("window_ranks", [CARS, {"name": "w", "source": "cars", "transform": [
    {"type": "window", "groupby": ["Origin"], "sort": {"field": "Horsepower", "order": "descending"},
     "ops": ["row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile"], "params": [None, None, None, None, None, 4],
     "as": ["rn", "rk", "drk", "prk", "cd", "nt"]}]}])
vg("window_offsets", [CARS, {"name": "w", "source": "cars", "transform": [
    {"type": "filter", "expr": "isValid(datum.Horsepower)"},
    {"type": "window", "sort": {"field": ["Year", "Name"]}, "ops": ["lag", "lead", "lag", "lead"], "fields": ["Name", "Name", "Horsepower", "Horsepower"],
     "params": [None, None, 3, 2], "as": ["prev", "next", "prev3", "next2"]}]}])
vg("window_running", [CARS, {"name": "w", "source": "cars", "transform": [
    {"type": "window", "sort": {"field": "Year"}, "groupby": ["Origin"], "ops": ["sum", "count", "mean", "max", "valid"],
     "fields": ["Horsepower", None, "Horsepower", "Horsepower", "Horsepower"]}]}])
vg("window_frames", [CARS, {"name": "w", "source": "cars", "transform": [
    {"type": "window", "sort": {"field": ["Year", "Name"]}, "frame": [-2, 2], "ignorePeers": True,
     "ops": ["mean", "min", "first_value", "last_value", "nth_value"], "fields": ["Acceleration", "Acceleration", "Name", "Name", "Name"],
     "params": [None, None, None, None, 2]}]},
    {"name": "whole", "source": "cars", "transform": [
        {"type": "window", "groupby": ["Cylinders"], "frame": [None, None], "ops": ["mean", "first_value", "last_value", "count"],
         "fields": ["Weight_in_lbs", "Name", "Name", None], "sort": {"field": "Name"}}]},
    {"name": "peers", "source": "cars", "transform": [
        {"type": "window", "sort": {"field": "Cylinders"}, "frame": [-1, 1], "ops": ["sum"], "fields": ["Horsepower"]}]}])
vg("window_rolling_unique_sort", [WEATHER, {"name": "rolling", "source": "w", "transform": [
    {"type": "window", "sort": {"field": "date"}, "frame": [-3, 3], "ops": ["mean", "count", "first_value"], "fields": ["temp_max", None, "weather"]}]}])
vg("window_input_order", [MIX_SOURCE, {"name": "w", "source": "src", "transform": [
    {"type": "window", "ops": ["row_number", "sum", "lag", "first_value"], "fields": [None, "a", "b", "b"]}]},
    {"name": "w2", "source": "src", "transform": [{"type": "window", "frame": [None, None], "ops": ["max", "count"], "fields": ["e e", None]}]}])
vg("joinaggregate", [CARS,
    {"name": "j1", "source": "cars", "transform": [{"type": "joinaggregate", "groupby": ["Origin"], "ops": ["mean", "count", "max"],
                                                  "fields": ["Horsepower", None, "Year"], "as": ["mean_hp", "n", "latest"]}]},
    {"name": "j2", "source": "cars", "transform": [{"type": "joinaggregate", "ops": ["sum"], "fields": ["Weight_in_lbs"]},
                                                  {"type": "formula", "expr": "datum.Weight_in_lbs / datum.sum_Weight_in_lbs", "as": "share"}]},
    {"name": "j3", "source": "cars", "transform": [{"type": "joinaggregate", "groupby": ["Cylinders"], "ops": ["median"], "fields": ["Horsepower"]}]}])
BARLEY = {"name": "barley", "url": "data/barley.json"}
for offset in ["zero", "center", "normalize"]:
    vg(f"stack_{offset}", [BARLEY, {"name": "agg", "source": "barley", "transform": [
        {"type": "aggregate", "groupby": ["variety", "site"], "ops": ["sum"], "fields": ["yield"]},
        {"type": "stack", "groupby": ["variety"], "field": "sum_yield", "sort": {"field": ["site"], "order": ["descending"]},
         "offset": offset, "as": ["y0", "y1"]}]},
        {"name": "raw", "source": "barley", "transform": [{"type": "stack", "groupby": ["site", "year"], "field": "yield", "offset": offset}]}])
vg("stack_negative", [{"name": "v", "values": [{"x": "a", "c": 1, "y": 3}, {"x": "a", "c": 2, "y": -2}, {"x": "a", "c": 3, "y": 4},
                                               {"x": "a", "c": 4, "y": -1}, {"x": "b", "c": 1, "y": None}, {"x": "b", "c": 2, "y": 2}]},
                      {"name": "s", "source": "v", "transform": [{"type": "stack", "groupby": ["x"], "field": "y", "sort": {"field": "c"}}]},
                      {"name": "count_stack", "source": "v", "transform": [{"type": "stack", "groupby": ["x"]}]}])

# --- impute and lookup ---------------------------------------------------------
IMP = {"name": "v", "values": [
    {"g": "a", "k": 1, "y": 10}, {"g": "a", "k": 2, "y": None}, {"g": "b", "k": 1, "y": 4}, {"g": None, "k": 3, "y": 7},
    {"g": "b", "k": 3, "y": 2.5}, {"g": "a", "k": 4, "y": 1}, {"g": "b", "k": 1, "y": 8}]}
vg("impute_methods", [IMP] + [
    {"name": m, "source": "v", "transform": [{"type": "impute", "field": "y", "key": "k", "groupby": ["g"], "method": m}]}
    for m in ["value", "mean", "median", "min", "max"]] + [
    {"name": "value_9", "source": "v", "transform": [{"type": "impute", "field": "y", "key": "k", "groupby": ["g"], "value": 9}]},
    {"name": "keyvals", "source": "v", "transform": [{"type": "impute", "field": "y", "key": "k", "keyvals": [0, 2, 5], "groupby": ["g"]}]},
    {"name": "no_groupby", "source": "v", "transform": [{"type": "impute", "field": "y", "key": "k", "keyvals": [9]}]},
    {"name": "then_aggregate", "source": "v", "transform": [{"type": "impute", "field": "y", "key": "k", "groupby": ["g"], "method": "mean"},
                                                            {"type": "aggregate", "groupby": ["g"], "ops": ["sum", "count"], "fields": ["y", None]}]}])
PEOPLE = {"name": "people", "values": [{"name": "ann", "age": 30, "city": "Oslo"}, {"name": "bob", "age": 41, "city": None},
                                        {"name": "ann", "age": 31, "city": "Rome"}, {"name": None, "age": 1, "city": "Nil"}]}
vg("lookup_cases", [PEOPLE, {"name": "groups", "values": [{"who": "ann", "g": 1}, {"who": "bob", "g": 1}, {"who": "cid", "g": 2}, {"who": None, "g": 3}]},
    {"name": "plain", "source": "groups", "transform": [{"type": "lookup", "from": "people", "key": "name", "fields": ["who"], "values": ["age", "city"]}]},
    {"name": "renamed", "source": "groups", "transform": [{"type": "lookup", "from": "people", "key": "name", "fields": ["who"], "values": ["age"], "as": ["years"], "default": -1}]},
    {"name": "objects", "source": "groups", "transform": [{"type": "lookup", "from": "people", "key": "name", "fields": ["who"], "as": ["person"]}]}])
# vega's lookup index is a fastmap: keys are property names, so a number finds its
# String() among text keys (null finds "null"; 1e21 is "1e+21", not "1e21").
vg("lookup_as_strings", [{"name": "codes", "values": [{"code": "1", "label": "one"}, {"code": "2.5", "label": "two and a half"},
                                                       {"code": "null", "label": "null text"}, {"code": "1e21", "label": "big"}]},
    {"name": "numbers", "values": [{"v": 1}, {"v": 2.5}, {"v": None}, {"v": 1e21}, {"v": 3}, {"v": 1}]},
    {"name": "by_number", "source": "numbers", "transform": [{"type": "lookup", "from": "codes", "key": "code", "fields": ["v"], "values": ["label"]}]},
    {"name": "by_text", "source": "codes", "transform": [{"type": "lookup", "from": "numbers", "key": "v", "fields": ["code"], "values": ["v"], "as": ["found"], "default": -1}]}])
# Points on maps: Vega-Lite's geojson signal (the fit) and geopoint per projection
# type; coordinates as text, null (+null is 0: a point at 0,0), missing and NaN;
# points Albers USA has no part for (Puerto Rico, 0,0) are undefined there.
PLACES = [{"name": "Seattle", "lon": -122.33, "lat": 47.61}, {"name": "Boston", "lon": "-71.06", "lat": "42.36"},
          {"name": "Miami", "lon": -80.19, "lat": 25.76}, {"name": "Anchorage", "lon": -149.9, "lat": 61.22},
          {"name": "Honolulu", "lon": -157.86, "lat": 21.31}, {"name": "San Juan", "lon": -66.11, "lat": 18.47},
          {"name": "null lat", "lon": -100, "lat": None}, {"name": "no lon", "lat": 40}, {"name": "text", "lon": "x", "lat": 10},
          {"name": "Oslo", "lon": 10.75, "lat": 59.91}, {"name": "Sydney", "lon": 151.21, "lat": -33.87}]
for kind, extra in [("albersUsa", {}), ("mercator", {}), ("equalEarth", {}), ("orthographic", {"rotate": [100, -30, 0]}),
                    ("albers", {}), ("naturalEarth1", {}), ("equirectangular", {"center": [20, 10]}), ("conicEqualArea", {"parallels": [20, 50]})]:
    vl(f"vl_geo_points_{kind}", {"data": {"values": PLACES}, "width": 400, "height": 250, "projection": {"type": kind, **extra},
        "mark": "circle", "encoding": {"longitude": {"field": "lon", "type": "quantitative"}, "latitude": {"field": "lat", "type": "quantitative"}}})
# A `fit` autosize sets width and height as it lays the view out: the browser's.
vl("vl_geo_points_autosize_fit", {"data": {"values": PLACES[:6]}, "width": 300, "height": 200, "autosize": {"type": "fit"},
    "projection": {"type": "albersUsa"}, "mark": "circle",
    "encoding": {"longitude": {"field": "lon", "type": "quantitative"}, "latitude": {"field": "lat", "type": "quantitative"}}})
# Layers fit one projection to the points of every layer; the second layer's own
# points only come after the first's geopoint, which then stays with the client.
vl("vl_geo_points_layers", {"width": 300, "height": 200, "projection": {"type": "albersUsa"}, "layer": [
    {"data": {"values": PLACES[:4]}, "mark": "circle", "encoding": {"longitude": {"field": "lon", "type": "quantitative"}, "latitude": {"field": "lat", "type": "quantitative"}}},
    {"data": {"values": PLACES[4:6]}, "mark": "square", "encoding": {"longitude": {"field": "lon", "type": "quantitative"}, "latitude": {"field": "lat", "type": "quantitative"}}}]})
# Vega: a projection without a fit (scale, translate, center, rotate, reflectY), one
# whose scale reads a signal, and one fitted to an extent.
vg("geo_points_projections", [{"name": "p", "values": PLACES},
    {"name": "fixed", "source": "p", "transform": [{"type": "geopoint", "projection": "fixed", "fields": ["lon", "lat"]}]},
    {"name": "signalled", "source": "p", "transform": [{"type": "geopoint", "projection": "signalled", "fields": ["lon", "lat"], "as": ["px", "py"]}]},
    {"name": "extent", "source": "p", "transform": [{"type": "geojson", "fields": ["lon", "lat"], "signal": "points"},
                                                    {"type": "geopoint", "projection": "extent", "fields": ["lon", "lat"]}]}],
   signals=[{"name": "zoom", "value": 3}],
   extra={"projections": [{"name": "fixed", "type": "mercator", "scale": 120, "translate": [200, 100], "center": [10, 20], "rotate": [-30, 0], "reflectY": True},
                          {"name": "signalled", "type": "equirectangular", "scale": {"signal": "zoom * 50"}},
                          {"name": "extent", "type": "equalEarth", "extent": [[10, 20], [310, 220]], "fit": {"signal": "points"}}]})
# TopoJSON: features decoded from quantized, delta-encoded arcs (reversed arcs,
# shared endpoints, points outside arcs, ids, bboxes, a null geometry), a lookup by
# feature id as Vega-Lite's choropleths do, and a mesh, which the client stitches.
SHAPES = "data/shapes.topojson.json"
vg("load_topojson", [
    {"name": "shapes", "url": SHAPES, "format": {"type": "topojson", "feature": "shapes"}},
    {"name": "one", "url": SHAPES, "format": {"type": "topojson", "feature": "one"}},
    {"name": "boroughs", "url": "data/londonBoroughs.json", "format": {"type": "topojson", "feature": "boroughs"}},
    {"name": "mesh", "url": SHAPES, "format": {"type": "topojson", "mesh": "shapes"}},
    {"name": "sizes", "values": [{"id": "Camden", "size": 1}, {"id": "Hackney", "size": 2}]},
    {"name": "sized", "source": "boroughs", "transform": [{"type": "lookup", "from": "sizes", "key": "id", "fields": ["id"], "values": ["size"]},
                                                          {"type": "filter", "expr": "isValid(datum.size)"}]}])

vg("pivot_cases", [CARS,
    {"name": "sum", "source": "cars", "transform": [{"type": "pivot", "field": "Origin", "value": "Horsepower", "groupby": ["Cylinders"]}]},
    {"name": "count", "source": "cars", "transform": [{"type": "pivot", "field": "Cylinders", "value": "Acceleration", "op": "count"}]},
    {"name": "mean_limited", "source": "cars", "transform": [{"type": "pivot", "field": "Origin", "value": "Miles_per_Gallon", "op": "mean", "limit": 2, "groupby": ["Year"]}]},
    {"name": "max_null_keys", "source": "cars", "transform": [{"type": "formula", "expr": "datum.Horsepower > 200 ? null : datum.Origin", "as": "o"},
                                                             {"type": "pivot", "field": "o", "value": "Weight_in_lbs", "op": "max"}]}])
vl("vl_pivot", {"data": {"values": [{"c": "x", "k": "a", "v": 1}, {"c": "x", "k": "b", "v": 2}, {"c": "y", "k": "a", "v": 3}]},
                "transform": [{"pivot": "k", "value": "v", "groupby": ["c"]}], "mark": "bar",
                "encoding": {"x": {"field": "c"}, "y": {"field": "a", "type": "quantitative"}}})

# Rows that lack a field read it as `undefined`, which JavaScript coerces unlike
# null (`+undefined` is NaN); a field no row has is undefined everywhere; `m` is
# null in one row and missing in another (vega.js tells them apart).
UNDEF = [
    {"a": 1, "s": "x", "t": True, "n": None, "m": 1, "k": "ab"},
    {"s": "y", "t": False, "n": 2, "m": None, "k": "x"},
    {"a": 0, "n": None, "k": ""},
    {"a": -2.5, "s": "", "t": True, "n": 3, "k": "héllo"},
    {"n": 4, "m": 5, "k": "y"},
]
formulas("expr_undefined", [
    "datum.a + 1", "datum.a * 2", "-datum.a", "+datum.a", "datum.a > 0", "datum.a <= 0", "datum.a == null",
    "datum.a === null", "datum.a === datum.nope", "datum.a !== datum.nope", "datum.a == datum.nope", "datum.n === datum.nope",
    "datum.n == datum.nope", "datum.nope === null", "datum.nope == null", "datum.a ? 1 : 0", "!datum.a", "datum.a || 5",
    "datum.a && 7", "datum.a", "'v' + datum.a", "datum.s + '!'", "'<' + datum.s", "datum.s > 'a'", "datum.t + 1",
    "datum.t ? 'y' : 'n'", "datum.t == 1", "datum.nope", "datum.nope + 1", "datum.nope === datum.zip", "datum.nope != 0",
    "'' + datum.nope", "isValid(datum.a)", "isDefined(datum.a)", "isDefined(datum.n)", "isDefined(datum.nope)",
    "isNumber(datum.a)", "isNaN(datum.a)", "isNaN(datum.a + 1)", "toNumber(datum.a)", "toNumber(datum.a) + 1",
    "toString(datum.a)", "toBoolean(datum.t)", "toDate(datum.a)", "abs(datum.a)", "max(datum.a, 1)", "round(datum.a, 2)",
    "if(datum.a > 0, datum.a, 0)", "datum.a > 0 ? datum.a : null", "{x: 1}.y", "{x: 1}.y + 1", "[1, 2][5] === datum.nope",
    "datum.m", "isValid(datum.m)", "upper(datum.s)", "datum.a + datum.n", "datum.n + 1", "datum.a === datum.nope",
    "datum.a == datum.n", "datum.a === datum.n", "datum.a || datum.n",
    # Members computed per row: of an object literal (Vega-Lite's emoji lookups) and
    # characters of a string.
    "{x: 'c', y: 'p', undefined: 'u'}[datum.s]", "{x: 1, y: 2}[datum.k]", "{1: 'one', 0: 'zero'}[datum.a]",
    "{x: 1}[datum.k] + 1", "datum.k[0]", "datum.k[2]", "datum.k[1.5]", "datum.k[0] + datum.k[1]",
], source={"name": "src", "values": UNDEF})
# vega keys groups by String(value): the number 1 and the string "1" share a group
# (whose value is its first row's), as do [1, 2] and "1,2", true and "true".
MIXED_KEYS = [
    {"k": 1, "g": "a", "v": 1}, {"k": "1", "g": "a", "v": 2}, {"k": "x", "g": "b", "v": 3}, {"k": None, "g": "a", "v": 4},
    {"k": True, "g": "b", "v": 5}, {"k": "true", "g": "b", "v": 6}, {"k": [1, 2], "g": "a", "v": 7}, {"k": "1,2", "g": "a", "v": 8},
    {"k": {"x": 1}, "g": "b", "v": 9}, {"k": "null", "g": "a", "v": 10}, {"k": 1.5, "g": "b", "v": 11}, {"k": "x", "g": "a", "v": 12},
]
vg("groupby_mixed_types", [{"name": "src", "values": MIXED_KEYS},
    {"name": "counts", "source": "src", "transform": [{"type": "aggregate", "groupby": ["k"], "ops": ["count", "sum"], "fields": [None, "v"]}]},
    {"name": "two_keys", "source": "src", "transform": [{"type": "aggregate", "groupby": ["g", "k"], "ops": ["max"], "fields": ["v"]}]},
    {"name": "joined", "source": "src", "transform": [{"type": "joinaggregate", "groupby": ["k"], "ops": ["sum"], "fields": ["v"], "as": ["total"]}]},
    {"name": "stacked", "source": "src", "transform": [{"type": "stack", "groupby": ["k"], "field": "v", "sort": {"field": "v"}}]},
    {"name": "ranked", "source": "src", "transform": [{"type": "window", "groupby": ["k"], "sort": {"field": "v"}, "ops": ["row_number"]}]}])
# A field of several types read by the type checks and `+` (Vega-Lite's validity
# filter, `isValid(datum.a) && isFinite(+datum.a)`): JavaScript's coercions of each.
formulas("expr_mixed_types", [
    "isValid(datum.k)", "+datum.k", "-datum.k", "isNumber(datum.k)", "isString(datum.k)", "isBoolean(datum.k)",
    "isArray(datum.k)", "isObject(datum.k)", "isFinite(+datum.k)", "isFinite(datum.k)", "isNaN(datum.k)", "isDefined(datum.k)",
    "isValid(datum.k) && isFinite(+datum.k)", "datum.k", "toNumber(datum.k)", "+datum.k + 1",
], source={"name": "src", "values": MIXED_KEYS + [
    {"g": "a", "v": 13}, {"k": "", "v": 14}, {"k": " 12 ", "v": 15}, {"k": [5], "v": 16}, {"k": [], "v": 17}, {"k": -3.5, "v": 18},
    {"k": False, "v": 19}, {"k": "abc", "v": 20}, {"k": [1, [2]], "v": 21}]})
# timeParse of a field without nulls (vega answers the string "null" for a null).
formulas("expr_time_parse_fields", [
    "timeParse(datum.t, '%Y-%m-%d %H:%M')", "utcParse(datum.t, '%Y-%m-%d %H:%M')", "timeParse(datum.t, '%Y')",
    "utcParse(datum.t, '%d %b %Y %H:%M:%S')",
], source={"name": "src", "values": [{"t": "2020-01-05 10:00"}, {"t": "1999-12-31 23:59"}, {"t": "bad"}, {"t": "05 Jan 2021 10:11:12"}]})
# Objects some rows lack, read through Vega-Lite's guard (`datum.r && datum.r.lo`).
formulas("expr_nested_undefined", [
    "datum.r && datum.r.lo", "datum.r && datum.r.hi", "(datum.r && datum.r.lo) + 1", "isDefined(datum.r)", "isValid(datum.r)",
    "datum.r ? 1 : 0", "datum['r'] && datum['r']['lo'] * 2",
], source={"name": "src", "values": [{"r": {"lo": 1, "hi": 2}, "k": 1}, {"r": {"lo": 3, "hi": None}, "k": 2}, {"k": 3}, {"r": {"lo": -1, "hi": 4}, "k": 4}]})
# d3-format through vega's format(): JavaScript's rounding of ties (toFixed rounds
# 2.5 up), SI prefixes, grouping, signs, padding and the "" type.
FORMAT_SPECS = ["", ",", ".2f", ".1%", "$,.2f", ".3s", "~s", "e", ".2e", "d", ",d", "+.1f", "(.2f", "08.2f", "^10", ".3r",
                ".0%", "~g", ".3g", "010,.1f", "*>8.1f", ".0f", ".1f", "s"]
formulas("expr_number_format", [f"format(datum.x, '{spec}')" for spec in FORMAT_SPECS] + [
    "format(datum.s, '.1f')", "format(datum.nope, '.1f')", "format(datum.x, 'q')", "format(datum.x, '#x')",
], source={"name": "src", "values": [
    {"x": 0.5, "s": "12.25"}, {"x": 1.005, "s": ""}, {"x": 1.125, "s": "x"}, {"x": 2.5, "s": " 7 "}, {"x": -2.5, "s": None},
    {"x": 1e21, "s": "1e3"}, {"x": 1234567.891, "s": "0x10"}, {"x": 0.000123}, {"x": 999.9996}, {"x": -0.04}, {"x": 1e-7},
    {"x": 0}, {"x": None}, {"x": -1234.5}, {"x": 123456789.125}, {"x": 0.045}, {"x": 9.995}, {"x": 1.5e300}, {"x": 5e-324}]})
vg("undefined_fields", [{"name": "w", "url": "data/wheat.json"},
    {"name": "valid", "source": "w", "transform": [{"type": "filter", "expr": "isValid(datum.wages)"}]},
    {"name": "doubled", "source": "w", "transform": [{"type": "formula", "expr": "datum.wages * 2", "as": "w2"}]},
    {"name": "agg", "source": "w", "transform": [{"type": "aggregate", "ops": ["count", "valid", "missing", "mean"], "fields": [None, "wages", "wages", "wages"]}]},
    {"name": "binned", "source": "w", "transform": [{"type": "bin", "field": "wages", "extent": [0, 40]}]}])
vl("vl_wheat_wages", {"data": {"url": "data/wheat.json"}, "layer": [
    {"mark": "bar", "encoding": {"x": {"field": "year", "type": "quantitative"}, "y": {"field": "wheat", "type": "quantitative"}}},
    {"mark": "line", "encoding": {"x": {"field": "year", "type": "quantitative"}, "y": {"field": "wages", "type": "quantitative"}}}]})

vg("quantile_cases", [CARS,
    {"name": "default", "source": "cars", "transform": [{"type": "quantile", "field": "Horsepower"}]},
    {"name": "grouped", "source": "cars", "transform": [{"type": "quantile", "field": "Acceleration", "groupby": ["Origin"], "probs": [0, 0.1, 0.5, 0.9, 1]}]},
    {"name": "step", "source": "cars", "transform": [{"type": "quantile", "field": "Miles_per_Gallon", "step": 0.2, "as": ["p", "v"]}]},
    {"name": "empty", "source": "cars", "transform": [{"type": "filter", "expr": "false"}, {"type": "quantile", "field": "Horsepower"}]}])
vl("vl_quantile_qq", {"data": {"url": "data/normal-2d.json"}, "transform": [{"quantile": "u", "step": 0.01, "as": ["p", "v"]},
                      {"calculate": "quantileUniform(datum.p)", "as": "unif"}], "mark": "point",
                      "encoding": {"x": {"field": "unif", "type": "quantitative"}, "y": {"field": "v", "type": "quantitative"}}})

vg("kde_cases", [CARS,
    {"name": "plain", "source": "cars", "transform": [{"type": "kde", "field": "Acceleration"}]},
    {"name": "nulls_counted", "source": "cars", "transform": [{"type": "kde", "field": "Horsepower", "groupby": ["Origin"]}]},
    {"name": "shared_counts", "source": "cars", "transform": [{"type": "filter", "expr": "isValid(datum.Miles_per_Gallon)"},
                                                             {"type": "kde", "field": "Miles_per_Gallon", "groupby": ["Cylinders"], "resolve": "shared", "counts": True, "steps": 50}]},
    {"name": "cdf_bandwidth", "source": "cars", "transform": [{"type": "kde", "field": "Acceleration", "cumulative": True, "bandwidth": 0.5, "extent": [5, 30], "as": ["x", "p"]}]}])
vg("density_cases", [CARS,
    {"name": "normal_pdf", "transform": [{"type": "density", "distribution": {"function": "normal", "mean": 2, "stdev": 0.5}, "extent": [0, 4]}]},
    {"name": "normal_cdf_steps", "transform": [{"type": "density", "distribution": {"function": "normal"}, "extent": [-3, 3], "method": "cdf", "steps": 13}]},
    {"name": "uniform", "transform": [{"type": "density", "distribution": {"function": "uniform", "min": 1, "max": 3}, "extent": [0, 4], "minsteps": 10, "maxsteps": 40, "as": ["x", "y"]}]},
    {"name": "kde_field", "source": "cars", "transform": [{"type": "density", "distribution": {"function": "kde", "field": "Displacement"}}]},
    {"name": "kde_bw_cdf", "source": "cars", "transform": [{"type": "density", "distribution": {"function": "kde", "field": "Weight_in_lbs", "bandwidth": 300}, "method": "cdf", "extent": [1500, 5500]}]}])
vl("vl_density_stacked", {"data": {"url": "data/penguins.json"}, "transform": [{"density": "Body Mass (g)", "groupby": ["Species"], "extent": [2500, 6500]}],
                          "mark": {"type": "area", "opacity": 0.5}, "encoding": {"x": {"field": "value", "type": "quantitative"}, "y": {"field": "density", "type": "quantitative", "stack": True}, "color": {"field": "Species"}}})

PQ = {"name": "flights", "url": "data/flights-2k.parquet"}
vg("parquet_pipeline", [PQ,
    {"name": "hist", "source": "flights", "transform": [{"type": "extent", "field": "delay", "signal": "delay_extent"},
        {"type": "bin", "field": "delay", "extent": {"signal": "delay_extent"}, "maxbins": 20}, {"type": "aggregate", "groupby": ["bin0", "bin1"]}]},
    {"name": "monthly", "source": "flights", "transform": [{"type": "timeunit", "field": "date", "units": ["month", "date"], "timezone": "utc"},
        {"type": "aggregate", "groupby": ["unit0"], "ops": ["mean", "stdev", "median"], "fields": ["delay", "delay", "distance"]}]},
    {"name": "stacked_unique", "source": "flights", "transform": [{"type": "aggregate", "groupby": ["origin", "destination"]},
        {"type": "stack", "groupby": ["origin"], "field": "count", "sort": {"field": "destination"}}]},
    {"name": "stacked_ties", "source": "flights", "transform": [{"type": "stack", "groupby": ["origin"], "field": "delay", "sort": {"field": "destination"}}]},
    {"name": "ranked", "source": "flights", "transform": [{"type": "window", "groupby": ["origin"], "sort": {"field": "delay", "order": "descending"}, "ops": ["rank", "dense_rank"]}]},
    {"name": "numbered", "source": "flights", "transform": [{"type": "window", "sort": {"field": "delay"}, "ops": ["row_number"]}]},
    {"name": "filtered", "source": "flights", "transform": [{"type": "filter", "expr": "datum.origin === 'LAX' && hours(datum.date) < 9"}]}],
   meta={"timezone": "America/Los_Angeles"})

vg("timeunit_without_units", [WEATHER, {"name": "t", "source": "w", "transform": [{"type": "timeunit", "field": "date", "maxbins": 20}]}])
vg("window_prev_next", [MIX_SOURCE, {"name": "prev", "source": "src", "transform": [{"type": "window", "ops": ["prev_value"], "fields": ["a"]}]},
                        {"name": "next", "source": "src", "transform": [{"type": "window", "ops": ["next_value"], "fields": ["a"]}]}])
# Partitions, sort ties (broken by input order), nulls at a partition's ends, and a
# frame that prev_value and next_value do not read.
vg("window_prev_next_grouped", [CARS] + [
    {"name": "by_origin", "source": "cars", "transform": [
        {"type": "window", "groupby": ["Origin"], "sort": {"field": "Cylinders"}, "ops": ["prev_value", "next_value", "next_value"],
         "fields": ["Miles_per_Gallon", "Miles_per_Gallon", "Horsepower"], "as": ["mpg_prev", "mpg_next", "hp_next"]}]},
    {"name": "framed", "source": "cars", "transform": [
        {"type": "window", "sort": {"field": ["Year", "Name"], "order": ["descending", "ascending"]}, "ignorePeers": True, "frame": [-2, 2],
         "ops": ["prev_value", "next_value", "row_number"], "fields": ["Horsepower", "Miles_per_Gallon", None], "as": ["hp_prev", "mpg_next", "n"]}]}])
# An animation: the frame's store is written when the view starts (a `modify` in
# a signal's update, from a scale's inverse), not by an event: never empty.
vl("vl_animation_frames", {"data": {"url": "data/gapminder.json"}, "params": [{"name": "frame", "select": {"type": "point", "fields": ["year"], "on": "timer"}}],
                           "transform": [{"filter": {"param": "frame"}}], "mark": "point",
                           "encoding": {"x": {"field": "fertility", "type": "quantitative"}, "y": {"field": "life_expect", "type": "quantitative"}, "time": {"field": "year"}}})
# Vega-Lite imputes 0 into a field CSV left as strings: only where a key is missing
# does the column mix types (then the client evaluates it).
vg("impute_value_into_strings", [{"name": "s", "url": "data/stocks.csv", "format": {"type": "csv", "parse": {"date": "date"}}},
    {"name": "complete", "source": "s", "transform": [{"type": "filter", "expr": "datum.symbol === 'GOOG'"}, {"type": "impute", "field": "price", "key": "date", "method": "value", "value": 0},
                                                      {"type": "stack", "groupby": ["date"], "field": "price", "sort": {"field": [], "order": []}}]},
    {"name": "gaps", "source": "s", "transform": [{"type": "impute", "field": "price", "key": "date", "groupby": ["symbol"], "value": 0}]}])
# A wrapped facet: its row and column sequences stop at a signal reading the
# length of the facet domain's dataset.
vl("vl_facet_wrapped", {"data": {"url": "data/barley.json"}, "columns": 2, "facet": {"field": "site", "sort": {"op": "median", "field": "yield"}},
                        "spec": {"mark": "point", "encoding": {"x": {"aggregate": "median", "field": "yield", "type": "quantitative"}, "y": {"field": "variety"}, "color": {"field": "year", "type": "nominal"}}}})
# Objects and arrays of one shape are read on the server through their members
# and items, as Vega-Lite reads nested fields (`datum.o && datum.o.hi`); a member
# some objects lack, or an item past the shortest array, is undefined somewhere.
NESTED = [{"k": "a", "o": {"hi": 3, "lo": 1, "tags": ["x", "y"], "at": {"d": 1}}, "xs": [1, 2, 3]},
          {"k": "b", "o": {"hi": 5, "lo": None, "tags": ["z"], "at": {"d": 2}}, "xs": [4, 5]},
          {"k": "c", "o": None, "xs": [6, 7]}]
vg("nested_members", [{"name": "v", "values": NESTED},
    {"name": "read", "source": "v", "transform": [
        {"type": "formula", "expr": "datum['o'] && datum['o']['hi']", "as": "hi"},
        {"type": "formula", "expr": "datum.o && datum.o.lo", "as": "lo"},
        {"type": "formula", "expr": "datum.o && datum.o.tags && datum.o.tags[0]", "as": "tag"},
        {"type": "formula", "expr": "datum.o && datum.o.at && datum.o.at.d * 10", "as": "d"},
        {"type": "formula", "expr": "datum['xs']['1'] * 2 + datum.xs.length", "as": "x1"}]},
    {"name": "mean_hi", "source": "v", "transform": [{"type": "formula", "expr": "datum.o && datum.o.hi", "as": "hi"},
                                                     {"type": "aggregate", "ops": ["mean", "count"], "fields": ["hi", None]}]},
    {"name": "past_shortest", "source": "v", "transform": [{"type": "formula", "expr": "datum.xs[2] + 1", "as": "x2"}]},
    {"name": "some_lack", "values": [{"p": {"a": 1}}, {"p": {"b": 2}}], "transform": [{"type": "formula", "expr": "datum.p.a + 1", "as": "a1"}]}])
vl("vl_nested_field", {"data": {"values": NESTED}, "mark": "point", "encoding": {"x": {"field": "o.hi", "type": "quantitative"}, "y": {"field": "o.at.d", "type": "quantitative"}}})
# argmin/argmax: the first row in input order with the least or greatest valid
# value (nulls and NaN skipped, ties to the first), read through its members; a
# group without a valid value gets {} in vega (left to the client).
vg("aggregate_argmin_argmax", [CARS,
    {"name": "by_origin", "source": "cars", "transform": [
        {"type": "aggregate", "groupby": ["Origin"], "ops": ["argmax", "argmin", "argmax"], "fields": ["Horsepower", "Miles_per_Gallon", "Cylinders"]},
        {"type": "formula", "expr": "datum.argmax_Horsepower.Name + ' (' + datum.argmax_Horsepower.Year + ')'", "as": "strongest"}]},
    {"name": "empty_group", "values": [{"g": "a", "x": None}, {"g": "b", "x": 1}, {"g": "b", "x": 3}],
     "transform": [{"type": "aggregate", "groupby": ["g"], "ops": ["argmax"], "fields": ["x"]}]}])
vl("vl_argmax_encoding", {"data": {"url": "data/cars.json"}, "mark": "bar",
                          "encoding": {"y": {"field": "Origin"}, "x": {"aggregate": {"argmax": "Horsepower"}, "field": "Miles_per_Gallon", "type": "quantitative"}}})
vl("vl_point_selection_ids", {"data": {"url": "data/cars.json"}, "params": [{"name": "pick", "select": "point"}], "transform": [{"filter": {"param": "pick"}}], "mark": "point",
                              "encoding": {"x": {"field": "Horsepower", "type": "quantitative"}, "y": {"field": "Miles_per_Gallon", "type": "quantitative"}}},
   meta={"store": {"pick_store": [{"unit": "", "_vgsid_": 3}, {"unit": "", "_vgsid_": 17}]}})

vg("regression_cases", [CARS] + [
    {"name": m, "source": "cars", "transform": [{"type": "regression", "x": "Horsepower", "y": "Miles_per_Gallon", "method": m}]}
    for m in ["constant", "linear", "log", "exp", "pow", "quad"]] + [
    {"name": "grouped_extent", "source": "cars", "transform": [{"type": "regression", "x": "Weight_in_lbs", "y": "Acceleration", "groupby": ["Origin"], "extent": [1500, 5000], "as": ["w", "a"]}]},
    {"name": "poly", "source": "cars", "transform": [{"type": "regression", "x": "Horsepower", "y": "Miles_per_Gallon", "method": "poly", "order": 3}]},
    {"name": "params", "source": "cars", "transform": [{"type": "regression", "x": "Horsepower", "y": "Miles_per_Gallon", "params": True}]}])

vg("loess_cases", [CARS,
    {"name": "default", "source": "cars", "transform": [{"type": "loess", "x": "Horsepower", "y": "Miles_per_Gallon"}]},
    {"name": "grouped_narrow", "source": "cars", "transform": [{"type": "loess", "x": "Weight_in_lbs", "y": "Acceleration", "groupby": ["Origin"], "bandwidth": 0.1, "as": ["w", "a"]}]},
    {"name": "repeated_x", "source": "cars", "transform": [{"type": "loess", "x": "Cylinders", "y": "Horsepower", "bandwidth": 0.5}]}])
vl("vl_loess", {"data": {"url": "data/movies.json"}, "transform": [{"filter": "isValid(datum['Rotten Tomatoes Rating'])"}], "layer": [
    {"mark": "point", "encoding": {"x": {"field": "Rotten Tomatoes Rating", "type": "quantitative"}, "y": {"field": "IMDB Rating", "type": "quantitative"}}},
    {"mark": "line", "transform": [{"loess": "IMDB Rating", "on": "Rotten Tomatoes Rating"}],
     "encoding": {"x": {"field": "Rotten Tomatoes Rating", "type": "quantitative"}, "y": {"field": "IMDB Rating", "type": "quantitative"}}}]})

vg("json_columns", [{"name": "m", "values": [{"t": 1776, "x": 1, "o": {"a": 1}}, {"t": "Up", "x": 2.5, "o": [1, 2]}, {"t": None, "x": 3, "o": None}]},
    {"name": "p", "source": "m", "transform": [{"type": "project", "fields": ["t", "o"], "as": ["title", "obj"]}]},
    {"name": "f", "source": "m", "transform": [{"type": "filter", "expr": "datum.x > 1"}, {"type": "formula", "expr": "datum.x * 2", "as": "y"},
                                              {"type": "collect", "sort": {"field": "x", "order": "descending"}}]},
    {"name": "w", "source": "m", "transform": [{"type": "window", "ops": ["row_number"]}, {"type": "fold", "fields": ["x"]}]},
    {"name": "a", "source": "m", "transform": [{"type": "aggregate", "groupby": ["t"]}]},
    {"name": "e", "source": "m", "transform": [{"type": "formula", "expr": "datum.t + '!'", "as": "u"}]}])

# --- loading ------------------------------------------------------------------
vg("load_csv_auto", [{"name": "w", "url": "data/seattle-weather.csv", "format": {"type": "csv", "parse": "auto"}}])
vg("load_csv_strings", [{"name": "w", "url": "data/seattle-weather.csv", "format": {"type": "csv"}},
                        {"name": "stocks", "url": "data/stocks.csv", "format": {"type": "csv", "parse": {"date": "date", "price": "number"}}}])
vg("load_tsv", [{"name": "u", "url": "data/unemployment.tsv", "format": {"type": "tsv", "parse": "auto"}}])
vg("load_json_types", [{"name": "p", "url": "data/population.json"}, {"name": "g", "url": "data/gapminder.json"},
                       {"name": "a", "url": "data/anscombe.json", "format": {"type": "json"}}])
vg("load_arrow", [{"name": "f", "url": "data/flights-200k.arrow", "format": {"type": "arrow"}},
                  {"name": "delays", "source": "f", "transform": [
                      {"type": "extent", "field": "delay", "signal": "delay_extent"},
                      {"type": "bin", "field": "delay", "extent": {"signal": "delay_extent"}, "maxbins": 20},
                      {"type": "aggregate", "groupby": ["bin0", "bin1"]}]}])
vg("load_values_parse", [{"name": "v", "values": [{"n": "1.5", "b": "true", "s": 3, "d": "2020-01-02"}, {"n": "", "b": "false", "s": None, "d": "Jan 5 2021"}],
                          "format": {"parse": {"n": "number", "b": "boolean", "s": "string", "d": "date"}}},
                         {"name": "prim", "values": [1, 2, 3]},
                         {"name": "empty", "values": []}])
vg("load_parse_patterns", [
    {"name": "a", "values": [{"t": "2021-03-14 01:30"}, {"t": "2021-11-07 01:30"}, {"t": "nope"}, {"t": ""}, {"t": None}],
     "format": {"parse": {"t": "date:'%Y-%m-%d %H:%M'"}}},
    {"name": "b", "values": [{"t": "14/03/2021"}, {"t": "01/01/1999"}], "format": {"parse": {"t": "utc:%d/%m/%Y"}}},
    {"name": "c", "source": "a", "transform": [{"type": "formula", "expr": "isDate(datum.t) ? hours(datum.t) : -1", "as": "h"},
                                              {"type": "timeunit", "field": "t", "units": ["year", "month", "date", "hours"]}]}],
   meta={"timezone": "America/New_York"})
vg("load_json_property", [{"name": "v", "values": {"a": {"rows": [{"x": 1}, {"x": 2}]}}, "format": {"property": "a.rows"}}])
vg("load_sources", [{"name": "a", "values": [{"x": 1}, {"x": 2}]}, {"name": "b", "values": [{"x": 3, "y": "q"}]},
                    {"name": "ab", "source": ["a", "b"], "transform": [{"type": "formula", "expr": "datum.x * 10", "as": "z"}]}])

# --- unsupported transforms: the dataset is reported, with why -----------------
for t in [{"type": "lookup", "from": "cars", "key": "Name", "fields": ["Name"], "values": ["Horsepower"], "as": ["hp"]}, {"type": "impute", "field": "Horsepower", "key": "Year", "groupby": ["Origin"]},
          {"type": "pivot", "field": "Origin", "value": "Horsepower", "groupby": ["Year"]}, {"type": "quantile", "field": "Horsepower"},
          {"type": "density", "distribution": {"function": "kde", "field": "Horsepower"}}, {"type": "regression", "x": "Horsepower", "y": "Acceleration"},
          {"type": "loess", "x": "Horsepower", "y": "Acceleration"}, {"type": "sample", "size": 10}, {"type": "countpattern", "field": "Name"},
          {"type": "dotbin", "field": "Horsepower"}, {"type": "kde", "field": "Horsepower"}, {"type": "flatten", "fields": ["Name"]}]:
    vg(f"split_{t['type']}", [CARS, {"name": "before", "source": "cars", "transform": [{"type": "filter", "expr": "datum.Cylinders > 4"}]},
                               {"name": "cut", "source": "before", "transform": [t]},
                               {"name": "after", "source": "cut", "transform": [{"type": "filter", "expr": "true"}]}])

# Arrays of different lengths side by side (null past the shorter's end), empty
# arrays (no rows), null items, the same name in and out, and what follows.
vg("flatten_arrays", [{"name": "v", "values": [{"k": "a", "xs": [1, 2], "ys": ["p"]}, {"k": "b", "xs": [], "ys": []}, {"k": "c", "xs": [3], "ys": ["q", "r", None]},
                                               {"k": "d", "xs": [None, 4.5], "ys": ["s"]}]},
                     {"name": "flat", "source": "v", "transform": [{"type": "flatten", "fields": ["xs"], "as": ["x"]}]},
                     {"name": "both", "source": "v", "transform": [{"type": "flatten", "fields": ["xs", "ys"], "index": "i"}, {"type": "formula", "expr": "datum.xs * 2 + datum.i", "as": "z"}]},
                     {"name": "counted", "source": "v", "transform": [{"type": "flatten", "fields": ["ys"]}, {"type": "aggregate", "groupby": ["ys"]}]},
                     {"name": "flags", "values": [{"b": [True, False]}, {"b": [False]}], "transform": [{"type": "flatten", "fields": ["b"], "as": ["flag"], "index": "n"}]},
                     {"name": "mixed", "values": [{"m": [1, "a"]}, {"m": [{"o": 1}]}], "transform": [{"type": "flatten", "fields": ["m"]}]}])

# --- Vega-Lite charts ---------------------------------------------------------
CARS_VL = {"data": {"url": "data/cars.json"}}
vl("vl_histogram", {**CARS_VL, "mark": "bar", "encoding": {"x": {"field": "Horsepower", "bin": True}, "y": {"aggregate": "count"}}})
vl("vl_histogram_maxbins", {**CARS_VL, "mark": "bar", "encoding": {"x": {"field": "Displacement", "bin": {"maxbins": 30}}, "y": {"aggregate": "count"}}})
vl("vl_histogram_step", {**CARS_VL, "mark": "bar", "encoding": {"x": {"field": "Acceleration", "bin": {"step": 2}}, "y": {"aggregate": "count"}}})
vl("vl_bar_mean", {**CARS_VL, "mark": "bar", "encoding": {"x": {"field": "Origin"}, "y": {"aggregate": "mean", "field": "Horsepower"}}})
vl("vl_bar_sorted", {**CARS_VL, "mark": "bar", "encoding": {"x": {"field": "Origin", "sort": "-y"}, "y": {"aggregate": "sum", "field": "Weight_in_lbs"}}})
vl("vl_scatter", {**CARS_VL, "mark": "point", "encoding": {"x": {"field": "Horsepower", "type": "quantitative"}, "y": {"field": "Miles_per_Gallon", "type": "quantitative"}, "color": {"field": "Origin"}}})
vl("vl_line_yearmonth", {"data": {"url": "data/stocks.csv"}, "mark": "line", "encoding": {"x": {"timeUnit": "yearmonth", "field": "date"}, "y": {"aggregate": "mean", "field": "price"}, "color": {"field": "symbol"}}})
vl("vl_line_year_utc", {"data": {"url": "data/stocks.csv"}, "mark": "line", "encoding": {"x": {"timeUnit": "utcyear", "field": "date"}, "y": {"aggregate": "max", "field": "price"}}})
vl("vl_weather_month", {"data": {"url": "data/seattle-weather.csv"}, "mark": "bar", "encoding": {"x": {"timeUnit": "month", "field": "date", "type": "ordinal"}, "y": {"aggregate": "count"}, "color": {"field": "weather"}}}, meta={"timezone": "America/Los_Angeles"})
vl("vl_stacked_bar", {"data": {"url": "data/barley.json"}, "mark": "bar", "encoding": {"x": {"field": "variety"}, "y": {"aggregate": "sum", "field": "yield"}, "color": {"field": "site"}}})
vl("vl_stacked_normalize", {"data": {"url": "data/barley.json"}, "mark": "area", "encoding": {"x": {"field": "year", "type": "ordinal"}, "y": {"aggregate": "sum", "field": "yield", "stack": "normalize"}, "color": {"field": "site"}}})
vl("vl_stacked_center", {"data": {"url": "data/barley.json"}, "mark": "area", "encoding": {"x": {"field": "year", "type": "ordinal"}, "y": {"aggregate": "sum", "field": "yield", "stack": "center"}, "color": {"field": "site"}}})
vl("vl_heatmap_binned", {**CARS_VL, "mark": "rect", "encoding": {"x": {"field": "Horsepower", "bin": {"maxbins": 20}}, "y": {"field": "Miles_per_Gallon", "bin": {"maxbins": 20}}, "color": {"aggregate": "count"}}})
vl("vl_calculate_filter", {**CARS_VL, "transform": [{"calculate": "datum.Horsepower / datum.Weight_in_lbs * 1000", "as": "ratio"}, {"filter": "datum.ratio > 40"}],
                           "mark": "point", "encoding": {"x": {"field": "ratio", "type": "quantitative"}, "y": {"field": "Name"}}})
vl("vl_filter_predicates", {**CARS_VL, "transform": [{"filter": {"field": "Origin", "oneOf": ["Europe", "Japan"]}}, {"filter": {"field": "Horsepower", "range": [60, 120]}},
                                                      {"filter": {"timeUnit": "year", "field": "Year", "gte": 1975}}],
                            "mark": "point", "encoding": {"x": {"field": "Horsepower", "type": "quantitative"}, "y": {"field": "Acceleration", "type": "quantitative"}}})
vl("vl_fold", {"data": {"values": [{"c": "a", "x": 1, "y": 2}, {"c": "b", "x": 3, "y": 4}]}, "transform": [{"fold": ["x", "y"]}],
               "mark": "bar", "encoding": {"x": {"field": "key"}, "y": {"field": "value", "type": "quantitative"}, "color": {"field": "c"}}})
vl("vl_joinaggregate", {**CARS_VL, "transform": [{"joinaggregate": [{"op": "mean", "field": "Horsepower", "as": "mean_hp"}], "groupby": ["Origin"]},
                                                  {"filter": "datum.Horsepower > datum.mean_hp"}],
                        "mark": "point", "encoding": {"x": {"field": "Horsepower", "type": "quantitative"}, "y": {"field": "Origin"}}})
vl("vl_window_topk", {**CARS_VL, "transform": [{"window": [{"op": "rank", "as": "rank"}], "sort": [{"field": "Horsepower", "order": "descending"}]},
                                                {"filter": "datum.rank <= 10"}],
                      "mark": "bar", "encoding": {"x": {"field": "Horsepower", "type": "quantitative"}, "y": {"field": "Name", "sort": "-x"}}})
vl("vl_window_cumulative", {"data": {"url": "data/seattle-weather.csv"}, "transform": [{"window": [{"op": "sum", "field": "precipitation", "as": "cum"}], "frame": [None, 0]}],
                            "mark": "line", "encoding": {"x": {"field": "date", "type": "temporal"}, "y": {"field": "cum", "type": "quantitative"}}})
vl("vl_layer_mean_rule", {"data": {"url": "data/seattle-weather.csv"}, "layer": [
    {"mark": "bar", "encoding": {"x": {"timeUnit": "month", "field": "date", "type": "ordinal"}, "y": {"aggregate": "mean", "field": "precipitation"}}},
    {"mark": "rule", "encoding": {"y": {"aggregate": "mean", "field": "precipitation"}}}]})
vl("vl_boxplot", {**CARS_VL, "mark": "boxplot", "encoding": {"x": {"field": "Origin"}, "y": {"field": "Horsepower", "type": "quantitative"}}})
vl("vl_errorbar_stderr", {**CARS_VL, "mark": {"type": "errorbar", "extent": "stderr"}, "encoding": {"x": {"field": "Origin"}, "y": {"field": "Horsepower", "type": "quantitative"}}})
vl("vl_errorbar_ci", {**CARS_VL, "mark": {"type": "errorbar", "extent": "ci"}, "encoding": {"x": {"field": "Origin"}, "y": {"field": "Horsepower", "type": "quantitative"}}})
vl("vl_area_timeunit", {"data": {"url": "data/unemployment-across-industries.json"}, "mark": "area",
                        "encoding": {"x": {"timeUnit": "yearmonth", "field": "date"}, "y": {"aggregate": "sum", "field": "count"}, "color": {"field": "series"}}})
vl("vl_text_table", {**CARS_VL, "mark": "text", "encoding": {"x": {"field": "Cylinders", "type": "ordinal"}, "y": {"field": "Origin"}, "text": {"aggregate": "count"}}})
vl("vl_density", {**CARS_VL, "transform": [{"density": "Horsepower"}], "mark": "area", "encoding": {"x": {"field": "value", "type": "quantitative"}, "y": {"field": "density", "type": "quantitative"}}})
vl("vl_regression", {**CARS_VL, "layer": [{"mark": "point", "encoding": {"x": {"field": "Horsepower", "type": "quantitative"}, "y": {"field": "Acceleration", "type": "quantitative"}}},
                                           {"mark": "line", "transform": [{"regression": "Acceleration", "on": "Horsepower"}],
                                            "encoding": {"x": {"field": "Horsepower", "type": "quantitative"}, "y": {"field": "Acceleration", "type": "quantitative"}}}]})
vl("vl_lookup", {"data": {"url": "data/lookup_groups.csv"}, "transform": [{"lookup": "person", "from": {"data": {"url": "data/lookup_people.csv"}, "key": "name", "fields": ["age", "height"]}}],
                 "mark": "bar", "encoding": {"x": {"field": "group"}, "y": {"field": "age", "type": "quantitative"}}})
vl("vl_impute", {"data": {"values": [{"a": 0, "b": 28, "c": 0}, {"a": 0, "b": 91, "c": 1}, {"a": 1, "b": 43, "c": 0}, {"a": 2, "b": 81, "c": 0}, {"a": 2, "b": 53, "c": 1}]},
                 "mark": "line", "encoding": {"x": {"field": "a", "type": "quantitative"}, "y": {"field": "b", "type": "quantitative", "impute": {"value": 0}}, "color": {"field": "c"}}})
vl("vl_interval_brush", {**CARS_VL, "params": [{"name": "brush", "select": {"type": "interval", "encodings": ["x"]}}],
                         "transform": [{"filter": {"param": "brush"}}], "mark": "point",
                         "encoding": {"x": {"field": "Horsepower", "type": "quantitative"}, "y": {"field": "Miles_per_Gallon", "type": "quantitative"}}},
   meta={"store": {"brush_store": [{"unit": "", "fields": [{"field": "Horsepower", "channel": "x", "type": "R"}], "values": [[90, 150]]}]}})
vl("vl_interval_brush_xy", {**CARS_VL, "params": [{"name": "brush", "select": "interval"}], "transform": [{"filter": {"param": "brush"}}], "mark": "point",
                            "encoding": {"x": {"field": "Horsepower", "type": "quantitative"}, "y": {"field": "Miles_per_Gallon", "type": "quantitative"}}},
   meta={"store": {"brush_store": [{"unit": "", "fields": [{"field": "Horsepower", "channel": "x", "type": "R"}, {"field": "Miles_per_Gallon", "channel": "y", "type": "R"}],
                                    "values": [[150, 80], [10, 20]]}]}})
vl("vl_point_selection_fields", {**CARS_VL, "params": [{"name": "pick", "select": {"type": "point", "fields": ["Origin"]}}],
                                 "transform": [{"filter": {"param": "pick"}}], "mark": "bar",
                                 "encoding": {"x": {"field": "Cylinders", "type": "ordinal"}, "y": {"aggregate": "count"}}},
   meta={"store": {"pick_store": [{"unit": "", "fields": [{"field": "Origin", "type": "E"}], "values": ["Japan"]},
                                  {"unit": "", "fields": [{"field": "Origin", "type": "E"}], "values": ["Europe"]}]}})
vl("vl_brush_empty_store", {**CARS_VL, "params": [{"name": "brush", "select": {"type": "interval", "encodings": ["x"]}}],
                            "transform": [{"filter": {"param": "brush"}}], "mark": "point",
                            "encoding": {"x": {"field": "Horsepower", "type": "quantitative"}, "y": {"field": "Miles_per_Gallon", "type": "quantitative"}}})
vl("vl_slider_signal", {**CARS_VL, "params": [{"name": "minhp", "value": 100, "bind": {"input": "range", "min": 0, "max": 250}}],
                        "transform": [{"filter": "datum.Horsepower > minhp"}], "mark": "point",
                        "encoding": {"x": {"field": "Horsepower", "type": "quantitative"}, "y": {"field": "Miles_per_Gallon", "type": "quantitative"}}},
   meta={"set": {"minhp": 180}})
vl("vl_crossfilter_hist", {"data": {"url": "data/flights-2k.json", "format": {"parse": {"date": "date"}}},
                           "transform": [{"calculate": "hours(datum.date)", "as": "time"}],
                           "repeat": {"column": ["distance", "delay", "time"]},
                           "spec": {"layer": [{"params": [{"name": "brush", "select": {"type": "interval", "encodings": ["x"]}}], "mark": "bar",
                                               "encoding": {"x": {"field": {"repeat": "column"}, "bin": {"maxbins": 20}}, "y": {"aggregate": "count"}}},
                                              {"transform": [{"filter": {"param": "brush"}}], "mark": "bar",
                                               "encoding": {"x": {"field": {"repeat": "column"}, "bin": {"maxbins": 20}}, "y": {"aggregate": "count"}}}]}},
   meta={"timezone": "America/Chicago", "store": {"brush_store": [{"unit": "child__column_delay_layer_0", "fields": [{"field": "delay", "channel": "x", "type": "R"}], "values": [[-10, 40]]}]}})
vl("vl_flights_arrow", {"data": {"url": "data/flights-200k.arrow", "format": {"type": "arrow"}}, "mark": "bar",
                        "encoding": {"x": {"field": "distance", "bin": {"maxbins": 25}}, "y": {"aggregate": "count"}}})
vl("vl_movies_mixed", {"data": {"url": "data/movies.json"}, "mark": "bar", "encoding": {"x": {"field": "IMDB Rating", "bin": True}, "y": {"aggregate": "count"}}})
vl("vl_penguins_boxplot", {"data": {"url": "data/penguins.json"}, "mark": "boxplot", "encoding": {"x": {"field": "Species"}, "y": {"field": "Body Mass (g)", "type": "quantitative"}}})
vl("vl_gapminder_filter", {"data": {"url": "data/gapminder.json"}, "transform": [{"filter": "datum.year == 2000"}], "mark": "point",
                           "encoding": {"x": {"field": "fertility", "type": "quantitative"}, "y": {"field": "life_expect", "type": "quantitative"}, "size": {"field": "pop", "type": "quantitative"}}})
vl("vl_iowa_stack", {"data": {"url": "data/iowa-electricity.csv"}, "mark": "area",
                     "encoding": {"x": {"timeUnit": "year", "field": "year"}, "y": {"aggregate": "sum", "field": "net_generation", "stack": "normalize"}, "color": {"field": "source"}}})
vl("vl_github_punchcard", {"data": {"url": "data/github.csv"}, "mark": "circle",
                           "encoding": {"y": {"field": "time", "type": "ordinal", "timeUnit": "day"}, "x": {"field": "time", "type": "ordinal", "timeUnit": "hours"}, "size": {"field": "count", "aggregate": "sum"}}},
   meta={"timezone": "Europe/Berlin"})
vl("vl_disasters_bubble", {"data": {"url": "data/disasters.csv"}, "transform": [{"filter": "datum.Entity !== 'All natural disasters'"}], "mark": "circle",
                           "encoding": {"x": {"field": "Year", "type": "temporal", "timeUnit": "year"}, "y": {"field": "Entity"}, "size": {"field": "Deaths", "type": "quantitative"}}})
vl("vl_sp500_utc", {"data": {"url": "data/sp500.csv"}, "mark": "area", "encoding": {"x": {"field": "date", "type": "temporal", "timeUnit": "utcyearmonth"}, "y": {"field": "price", "aggregate": "mean"}}})
vl("vl_co2_rolling", {"data": {"url": "data/co2-concentration.csv", "format": {"parse": {"Date": "utc:'%Y-%m-%d'"}}},
                      "transform": [{"window": [{"op": "mean", "field": "CO2", "as": "rolling"}], "frame": [-6, 5]}], "mark": "line",
                      "encoding": {"x": {"field": "Date", "type": "temporal"}, "y": {"field": "rolling", "type": "quantitative"}}})
vl("vl_anscombe_facet", {"data": {"url": "data/anscombe.json"}, "facet": {"column": {"field": "Series"}}, "spec": {"mark": "point",
                         "encoding": {"x": {"field": "X", "type": "quantitative"}, "y": {"field": "Y", "type": "quantitative"}}}})
vl("vl_wheat_bar", {"data": {"url": "data/wheat.json"}, "mark": "bar", "encoding": {"x": {"field": "year", "type": "ordinal"}, "y": {"field": "wheat", "type": "quantitative"}}})
vl("vl_jobs_timeunit_filter", {"data": {"url": "data/jobs.json"}, "transform": [{"filter": {"field": "job", "equal": "Nurse"}}], "mark": "line",
                               "encoding": {"x": {"field": "year", "type": "ordinal"}, "y": {"field": "perc", "aggregate": "sum"}, "color": {"field": "sex"}}})
vl("vl_burtin_fold", {"data": {"url": "data/burtin.json"}, "transform": [{"fold": ["Penicillin", "Streptomycin", "Neomycin"], "as": ["drug", "mic"]}],
                      "mark": "point", "encoding": {"x": {"field": "mic", "type": "quantitative"}, "y": {"field": "Bacteria"}, "color": {"field": "drug"}}})
vl("vl_bin_timeunit_combo", {"data": {"url": "data/seattle-weather.csv"}, "mark": "rect",
                             "encoding": {"x": {"field": "date", "timeUnit": "date", "type": "ordinal"}, "y": {"field": "date", "timeUnit": "month", "type": "ordinal"},
                                          "color": {"field": "temp_max", "aggregate": "max"}}}, meta={"timezone": "Asia/Tokyo"})
vl("vl_calculate_strings", {"data": {"url": "data/cars.json"}, "transform": [{"calculate": "upper(substring(datum.Name, 0, 4)) + '-' + datum.Cylinders", "as": "tag"},
                                                                            {"aggregate": [{"op": "count", "as": "n"}], "groupby": ["tag"]}],
                            "mark": "bar", "encoding": {"x": {"field": "tag"}, "y": {"field": "n", "type": "quantitative"}}})

print(f"wrote {len(written)} specs")
