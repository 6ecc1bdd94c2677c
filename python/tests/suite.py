"""The Altair suite: charts written the way users write them, over pandas, polars
and pyarrow frames of the vega-datasets files the Rust suite ships.

Each chart's expected data comes from vega.js (``author.py`` compiles the chart
with Altair's default transformer, data inline, and runs it in the project's Node
harness); the tests evaluate the same chart with vegalake and compare.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

import altair as alt
import pandas as pd

DATA = Path(__file__).resolve().parents[2] / "integration-tests" / "datasets" / "data"

CHARTS: dict[str, Callable[[], alt.TopLevelMixin]] = {}


def chart(fn: Callable[[], alt.TopLevelMixin]) -> Callable[[], alt.TopLevelMixin]:
    CHARTS[fn.__name__] = fn
    return fn


# -- data -----------------------------------------------------------------------


@cache
def _json(name: str) -> pd.DataFrame:
    # Read as vega reads JSON: each value keeps its own type (no date guessing).
    return pd.DataFrame(json.loads((DATA / name).read_text()))


def json_frame(name: str) -> pd.DataFrame:
    return _json(name).copy()


def csv_frame(name: str, dates: tuple[str, ...] = ()) -> pd.DataFrame:
    return pd.read_csv(DATA / name, parse_dates=list(dates))


def cars() -> pd.DataFrame:
    return json_frame("cars.json")


def weather() -> pd.DataFrame:
    return csv_frame("seattle-weather.csv", ("date",))


def stocks() -> pd.DataFrame:
    return csv_frame("stocks.csv", ("date",))


def movies() -> pd.DataFrame:
    return json_frame("movies.json")


def penguins() -> pd.DataFrame:
    return json_frame("penguins.json")


def barley() -> pd.DataFrame:
    return json_frame("barley.json")


def flights() -> pd.DataFrame:
    return json_frame("flights-2k.json")


# -- marks and encodings ------------------------------------------------------------


@chart
def bar_count_by_origin():
    return alt.Chart(cars()).mark_bar().encode(x="Origin", y="count()")


@chart
def bar_mean_sorted():
    return alt.Chart(cars()).mark_bar().encode(x=alt.X("Origin:N", sort="-y"), y="mean(Horsepower):Q")


@chart
def histogram_maxbins():
    return alt.Chart(cars()).mark_bar().encode(alt.X("Horsepower:Q", bin=alt.Bin(maxbins=20)), y="count()")


@chart
def histogram_step():
    return alt.Chart(movies()).mark_bar().encode(alt.X("IMDB Rating:Q", bin=alt.Bin(step=0.5)), y="count()")


@chart
def histogram_colored():
    return alt.Chart(penguins()).mark_bar().encode(alt.X("Body Mass (g):Q", bin=True), y="count()", color="Species:N")


@chart
def scatter_plain():
    return alt.Chart(cars()).mark_point().encode(x="Horsepower:Q", y="Miles_per_Gallon:Q", color="Origin:N")


@chart
def scatter_sized():
    return alt.Chart(cars()).mark_circle().encode(x="Horsepower", y="Acceleration", size="Cylinders:O", tooltip=["Name", "Year"])


@chart
def line_timeunit_month():
    return alt.Chart(weather()).mark_line().encode(x="month(date):T", y="mean(temp_max):Q")


@chart
def line_yearmonth_stocks():
    return alt.Chart(stocks()).mark_line().encode(x="yearmonth(date):T", y="sum(price):Q", color="symbol:N")


@chart
def area_stacked():
    return alt.Chart(stocks()).mark_area().encode(x="year(date):T", y="mean(price):Q", color="symbol:N")


@chart
def area_normalized():
    df = csv_frame("iowa-electricity.csv", ("year",))
    return alt.Chart(df).mark_area().encode(x="year:T", y=alt.Y("net_generation:Q", stack="normalize"), color="source:N")


@chart
def bar_stacked_weather():
    return alt.Chart(weather()).mark_bar().encode(x="month(date):O", y="count()", color="weather:N")


@chart
def bar_grouped_barley():
    return alt.Chart(barley()).mark_bar().encode(x="year:O", y="sum(yield):Q", color="year:N", column="site:N")


@chart
def heatmap_binned():
    return (
        alt.Chart(movies())
        .mark_rect()
        .encode(alt.X("IMDB Rating:Q", bin=alt.Bin(maxbins=40)), alt.Y("Rotten Tomatoes Rating:Q", bin=alt.Bin(maxbins=40)), color="count()")
    )


@chart
def heatmap_timeunits():
    return alt.Chart(weather()).mark_rect().encode(x="date(date):O", y="month(date):O", color="max(temp_max):Q")


@chart
def tick_strip():
    return alt.Chart(cars()).mark_tick().encode(x="Horsepower:Q", y="Cylinders:O")


@chart
def text_counts():
    return alt.Chart(cars()).mark_text().encode(x="Origin:N", y="Cylinders:O", text="count()")


@chart
def boxplot_minmax():
    return alt.Chart(penguins()).mark_boxplot(extent="min-max").encode(x="Species:N", y="Body Mass (g):Q")


@chart
def boxplot_iqr():
    return alt.Chart(cars()).mark_boxplot().encode(x="Origin:N", y="Horsepower:Q")


@chart
def errorbar_stdev():
    return alt.Chart(barley()).mark_errorbar(extent="stdev").encode(x="yield:Q", y="variety:N")


@chart
def errorband_ci_free():
    return alt.Chart(cars()).mark_errorband(extent="stderr").encode(x="Year:T", y="Miles_per_Gallon:Q")


@chart
def rule_mean():
    return alt.Chart(cars()).mark_rule().encode(y="mean(Horsepower):Q")


@chart
def arc_pie():
    df = pd.DataFrame({"category": list("abcdef"), "value": [4, 6, 10, 3, 7, 8]})
    return alt.Chart(df).mark_arc().encode(theta="value:Q", color="category:N")


@chart
def arc_aggregated():
    return alt.Chart(weather()).mark_arc().encode(theta="count():Q", color="weather:N")


@chart
def square_median():
    return alt.Chart(cars()).mark_square().encode(x="Origin:N", y="median(Displacement):Q")


@chart
def trail_year():
    return alt.Chart(cars()).mark_trail().encode(x="Year:T", y="mean(Weight_in_lbs):Q", size="count()")


# -- transforms ---------------------------------------------------------------------


@chart
def filter_expression():
    return alt.Chart(cars()).mark_point().encode(x="Horsepower:Q", y="Miles_per_Gallon:Q").transform_filter("datum.Cylinders > 4")


@chart
def filter_range_and_oneof():
    return (
        alt.Chart(cars())
        .mark_bar()
        .encode(x="Origin:N", y="count()")
        .transform_filter(alt.FieldRangePredicate(field="Horsepower", range=[80, 150]))
        .transform_filter(alt.FieldOneOfPredicate(field="Cylinders", oneOf=[4, 6]))
    )


@chart
def calculate_ratio():
    return (
        alt.Chart(cars())
        .transform_calculate(power_per_weight="datum.Horsepower / datum.Weight_in_lbs * 1000")
        .mark_bar()
        .encode(alt.X("power_per_weight:Q", bin=True), y="count()")
    )


@chart
def calculate_strings():
    return (
        alt.Chart(cars())
        .transform_calculate(label="upper(substring(datum.Name, 0, 4)) + '-' + datum.Origin")
        .mark_bar()
        .encode(x="label:N", y="count()")
        .transform_filter("datum.Year > 0")
    )


@chart
def aggregate_transform():
    return (
        alt.Chart(cars())
        .transform_aggregate(mean_hp="mean(Horsepower)", n="count()", groupby=["Origin", "Cylinders"])
        .mark_circle()
        .encode(x="Origin:N", y="Cylinders:O", size="n:Q", color="mean_hp:Q")
    )


@chart
def joinaggregate_share():
    return (
        alt.Chart(cars())
        .transform_joinaggregate(total="sum(Horsepower)", groupby=["Origin"])
        .transform_calculate(share="datum.Horsepower / datum.total")
        .mark_bar()
        .encode(x="Origin:N", y="sum(share):Q")
    )


@chart
def window_rank_top():
    return (
        alt.Chart(movies())
        .transform_filter("isValid(datum['IMDB Rating'])")
        .transform_window(rank="rank()", sort=[alt.SortField("IMDB Rating", order="descending")])
        .transform_filter("datum.rank <= 10")
        .mark_bar()
        .encode(x="IMDB Rating:Q", y=alt.Y("Title:N", sort="-x"))
    )


@chart
def window_cumulative():
    return (
        alt.Chart(weather())
        .transform_window(cum_precip="sum(precipitation)", sort=[{"field": "date"}], frame=[None, 0])
        .mark_line()
        .encode(x="date:T", y="cum_precip:Q")
    )


@chart
def window_moving_average():
    return (
        alt.Chart(stocks())
        .transform_filter("datum.symbol === 'GOOG'")
        .transform_window(rolling="mean(price)", sort=[{"field": "date"}], frame=[-5, 5])
        .mark_line()
        .encode(x="date:T", y="rolling:Q")
    )


@chart
def fold_columns():
    return alt.Chart(cars()).transform_fold(["Horsepower", "Acceleration"], as_=["measure", "value"]).mark_bar().encode(x="measure:N", y="mean(value):Q")


@chart
def lookup_people():
    groups = csv_frame("lookup_groups.csv")
    people = csv_frame("lookup_people.csv")
    return (
        alt.Chart(groups)
        .transform_lookup(lookup="person", from_=alt.LookupData(data=people, key="name", fields=["age", "height"]))
        .mark_bar()
        .encode(x="group:N", y="mean(age):Q")
    )


@chart
def density_kde():
    return alt.Chart(cars()).transform_density("Horsepower", as_=["Horsepower", "density"]).mark_area().encode(x="Horsepower:Q", y="density:Q")


@chart
def density_grouped():
    return (
        alt.Chart(penguins())
        .transform_filter("isValid(datum['Body Mass (g)'])")
        .transform_density("Body Mass (g)", groupby=["Species"], as_=["mass", "density"], extent=[2500, 6500], steps=50)
        .mark_line()
        .encode(x="mass:Q", y="density:Q", color="Species:N")
    )


@chart
def regression_linear():
    base = alt.Chart(cars()).mark_point().encode(x="Horsepower:Q", y="Miles_per_Gallon:Q")
    return base + base.transform_regression("Horsepower", "Miles_per_Gallon").mark_line()


@chart
def loess_trend():
    return alt.Chart(cars()).transform_loess("Horsepower", "Miles_per_Gallon", bandwidth=0.5).mark_line().encode(x="Horsepower:Q", y="Miles_per_Gallon:Q")


@chart
def quantile_plot():
    return alt.Chart(cars()).transform_quantile("Horsepower", step=0.05).mark_point().encode(x="prob:Q", y="value:Q")


@chart
def impute_values():
    df = pd.DataFrame({"x": [1, 2, 3, 1, 3], "y": [10, 20, 30, 5, 15], "c": ["a", "a", "a", "b", "b"]})
    return alt.Chart(df).mark_line().encode(x="x:Q", y=alt.Y("y:Q", impute=alt.ImputeParams(value=0)), color="c:N")


@chart
def pivot_weather():
    return (
        alt.Chart(weather())
        .transform_timeunit(month="month(date)")
        .transform_pivot("weather", value="precipitation", groupby=["month"], op="sum")
        .mark_line()
        .encode(x="month:T", y="rain:Q")
    )


@chart
def timeunit_transform_utc():
    return alt.Chart(flights()).transform_calculate(d="toDate(datum.date)").mark_bar().encode(x="utchours(d):O", y="mean(delay):Q")


@chart
def bin_transform_extent():
    return alt.Chart(cars()).transform_bin("hp_bin", "Horsepower", bin=alt.Bin(extent=[0, 250], step=25)).mark_bar().encode(x="hp_bin:O", y="count()")


@chart
def sort_by_field():
    return alt.Chart(barley()).mark_bar().encode(x=alt.X("variety:N", sort=alt.EncodingSortField("yield", op="sum", order="descending")), y="sum(yield):Q")


@chart
def stack_center():
    df = json_frame("unemployment-across-industries.json")
    return alt.Chart(df).mark_area().encode(x="yearmonth(date):T", y=alt.Y("sum(count):Q", stack="center"), color="series:N")


@chart
def nulls_skipped_mean():
    return alt.Chart(movies()).mark_bar().encode(x="Major Genre:N", y="mean(Rotten Tomatoes Rating):Q")


@chart
def distinct_and_valid():
    return (
        alt.Chart(movies())
        .transform_aggregate(n="distinct(Director)", valid="valid(Running Time min)", missing="missing(Running Time min)", groupby=["MPAA Rating"])
        .mark_bar()
        .encode(x="MPAA Rating:N", y="n:Q")
    )


# -- composition ----------------------------------------------------------------------


@chart
def layer_bar_and_rule():
    base = alt.Chart(cars())
    return base.mark_bar().encode(x="Origin:N", y="mean(Horsepower):Q") + base.mark_rule(color="red").encode(y="mean(Horsepower):Q")


@chart
def hconcat_two_views():
    base = alt.Chart(cars())
    return base.mark_bar().encode(x="Origin:N", y="count()") | base.mark_point().encode(x="Horsepower:Q", y="Acceleration:Q")


@chart
def vconcat_histograms():
    base = alt.Chart(weather())
    return base.mark_bar().encode(alt.X("temp_max:Q", bin=True), y="count()") & base.mark_bar().encode(alt.X("wind:Q", bin=True), y="count()")


@chart
def facet_row():
    return alt.Chart(cars()).mark_bar().encode(alt.X("Horsepower:Q", bin=True), y="count()").facet(row="Origin:N")


@chart
def rule_min_max():
    return alt.Chart(barley()).mark_rule().encode(x="variety:N", y="min(yield):Q", y2="max(yield):Q")


@chart
def layer_line_points():
    base = alt.Chart(stocks()).encode(x="year(date):T", y="max(price):Q", color="symbol:N")
    return base.mark_line() + base.mark_point()


# The interactions the tests apply to the interactive charts above: a brush's
# store or a bound signal's value, as the browser would set them. The standalone
# client spec must give what vega.js gives for the original chart in that state.
def _brush(field: str, low: float, high: float) -> dict:
    return {"brush_store": [{"unit": "concat_0", "fields": [{"field": field, "channel": "x", "type": "R"}], "values": [[low, high]]}]}


INTERACTIONS: dict[str, dict] = {
    "brush_filters_histogram": {"store": _brush("temp_max", 10, 20)},
    "crossfilter_two_views": {"store": _brush("delay", 0, 60)},
    "slider_param_filter": {"set": {"cutoff": 150}},
}


# -- frames of other libraries and types ------------------------------------------------


@chart
def polars_frame():
    import polars as pl

    df = pl.DataFrame({"k": ["a", "b", "a", "c", "b", "a"], "v": [1.5, 2.0, None, 4.0, 5.5, 6.0]})
    return alt.Chart(df).mark_bar().encode(x="k:N", y="sum(v):Q")


@chart
def pyarrow_table():
    import pyarrow as pa

    table = pa.table({"g": ["x", "y", "x", "y"], "n": pa.array([1, 2, 3, None], type=pa.int64())})
    return alt.Chart(table).mark_bar().encode(x="g:N", y="mean(n):Q")


@chart
def categorical_column():
    df = cars()
    df["Origin"] = df["Origin"].astype("category")
    return alt.Chart(df).mark_bar().encode(x="Origin:N", y="max(Horsepower):Q")


@chart
def nullable_integers():
    df = pd.DataFrame({"g": ["a", "a", "b", "b", "b"], "n": pd.array([1, None, 3, 4, None], dtype="Int64")})
    return alt.Chart(df).mark_bar().encode(x="g:N", y="sum(n):Q")


@chart
def tz_aware_datetimes():
    df = pd.DataFrame({"t": pd.date_range("2024-03-09", periods=72, freq="h", tz="America/New_York"), "v": range(72)})
    return alt.Chart(df).mark_bar().encode(x="utcdate(t):O", y="sum(v):Q")


@chart
def naive_datetimes():
    df = pd.DataFrame({"t": pd.date_range("2023-12-30", periods=100, freq="7h"), "v": [i % 7 for i in range(100)]})
    return alt.Chart(df).mark_line().encode(x="yearmonthdate(t):T", y="mean(v):Q")


@chart
def naive_datetimes_new_york():
    # Wall times across the night clocks went back; hours() reads local time.
    df = pd.DataFrame({"t": pd.date_range("2024-11-02 20:00", periods=40, freq="37min"), "v": range(40)})
    return alt.Chart(df).mark_bar().encode(x="hours(t):O", y="sum(v):Q")


@chart
def date32_column():
    import datetime as dt

    import pyarrow as pa

    days = [dt.date(2024, 1, 1) + dt.timedelta(days=3 * i) for i in range(60)]
    table = pa.table({"d": pa.array(days, pa.date32()), "v": [i % 5 for i in range(60)]})
    return alt.Chart(table).mark_bar().encode(x="yearmonth(d):O", y="sum(v):Q")


@chart
def list_column_flattened():
    df = pd.DataFrame({"k": ["a", "b", "c"], "tags": [["x", "y"], ["y"], ["x", "z", "y"]]})
    return alt.Chart(df).transform_flatten(["tags"]).mark_bar().encode(x="tags:N", y="count()")


# Charts evaluated in a local time zone other than UTC: vega.js runs in that zone,
# vegalake with vl.enable(local_tz=...).
LOCAL_TZ: dict[str, str] = {"naive_datetimes_new_york": "America/New_York"}


# -- interactive ------------------------------------------------------------------------


@chart
def interval_brush_x():
    brush = alt.selection_interval(encodings=["x"])
    return (
        alt.Chart(cars())
        .mark_point()
        .encode(x="Horsepower:Q", y="Miles_per_Gallon:Q", color=alt.condition(brush, "Origin:N", alt.value("lightgray")))
        .add_params(brush)
    )


@chart
def brush_filters_histogram():
    brush = alt.selection_interval(encodings=["x"], name="brush")
    base = alt.Chart(weather())
    top = base.mark_bar().encode(alt.X("temp_max:Q", bin=True), y="count()").add_params(brush)
    bottom = base.mark_bar().encode(alt.X("precipitation:Q", bin=True), y="count()").transform_filter(brush)
    return top & bottom


@chart
def point_selection_legend():
    sel = alt.selection_point(fields=["Origin"], bind="legend")
    return (
        alt.Chart(cars())
        .mark_point()
        .encode(x="Horsepower:Q", y="Acceleration:Q", color="Origin:N", opacity=alt.condition(sel, alt.value(1), alt.value(0.2)))
        .add_params(sel)
    )


@chart
def slider_param_filter():
    cutoff = alt.param(value=100, bind=alt.binding_range(min=50, max=200, step=10), name="cutoff")
    return alt.Chart(cars()).mark_bar().encode(x="Origin:N", y="count()").add_params(cutoff).transform_filter(alt.datum.Horsepower < cutoff)


@chart
def crossfilter_two_views():
    brush = alt.selection_interval(encodings=["x"], name="brush")
    base = alt.Chart(flights()).mark_bar().encode(y="count()")
    delay = base.encode(alt.X("delay:Q", bin=alt.Bin(maxbins=20))).add_params(brush)
    distance = base.encode(alt.X("distance:Q", bin=alt.Bin(maxbins=20))).transform_filter(brush)
    return delay | distance


@chart
def param_expression_calculate():
    factor = alt.param(value=2, name="factor")
    return alt.Chart(cars()).mark_bar().encode(x="Origin:N", y="sum(scaled):Q").add_params(factor).transform_calculate(scaled="datum.Cylinders * factor")


# -- lake tables --------------------------------------------------------------------------
# The same charts over a Parquet file and a Delta table (vl.parquet, vl.delta) in the
# tests; over the same rows as a pandas frame when author.py asks vega.js.

FLIGHTS_PARQUET = DATA / "flights-2k.parquet"

LAKE_CHARTS: dict[str, Callable[[object], alt.TopLevelMixin]] = {}

# The rows each lake variant holds: the whole file, or the first version of the
# Delta table the tests write (its first 1,000 rows).
LAKE_VARIANTS = {"all": None, "first1000": 1000}


def lake_chart(fn: Callable[[object], alt.TopLevelMixin]) -> Callable[[object], alt.TopLevelMixin]:
    LAKE_CHARTS[fn.__name__] = fn
    return fn


def flights_rows(variant: str) -> pd.DataFrame:
    import pyarrow.parquet as pq

    table = pq.read_table(FLIGHTS_PARQUET)
    limit = LAKE_VARIANTS[variant]
    return (table if limit is None else table.slice(0, limit)).to_pandas()


@lake_chart
def lake_histogram(source):
    # Shorthand without types: Altair infers them from the table's schema.
    return alt.Chart(source).mark_bar().encode(alt.X("delay", bin=alt.Bin(maxbins=30)), y="count()")


@lake_chart
def lake_mean_by_origin(source):
    return alt.Chart(source).mark_bar().encode(x="origin", y="mean(distance)")


@lake_chart
def lake_timeunit(source):
    return alt.Chart(source).mark_line().encode(x="utcdate(date):O", y="count()")


@lake_chart
def lake_crossfilter(source):
    brush = alt.selection_interval(encodings=["x"])
    base = alt.Chart(source).mark_bar().encode(y="count()")
    left = base.encode(alt.X("distance:Q", bin=alt.Bin(maxbins=20))).add_params(brush)
    right = base.encode(alt.X("utchours(date):O")).transform_filter(brush)
    return left | right
