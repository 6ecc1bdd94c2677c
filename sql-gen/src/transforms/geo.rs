//! `geojson` and `geopoint` over longitude/latitude fields: the points a projection
//! is fitted to (a signal), and each row's projected `x` and `y`.
//!
//! vega-geo's GeoJSON transform collects `[+lon, +lat]` of the rows where neither
//! is null and both are numbers into one MultiPoint feature; its Projection fits
//! to that signal (d3-geo's `fitSize`), and GeoPoint calls the projection on each
//! row (Albers USA answers `undefined` outside its three parts). The projection is
//! computed here from the spec's definition (`vegalake_planner::values::geo`),
//! fitted to the collected points, and handed to `vl_geo_point` as its final
//! parameters. Features of a field (`geojson`: lines and polygons, whose fit needs
//! d3's clipping and resampling) stay with the client.

use super::params::resolve_signals;
use super::{Step, TransformDef, TransformInput, ROW};
use crate::coerce::{json_to_number, to_number};
use crate::env::Environment;
use crate::error::{invalid, unsupported, LowerError, Result};
use crate::lower::column;
use crate::plan::{alias_undefined_nulls, col, has_column, with_columns};
use crate::udf;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Float64Type;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::DFSchema;
use datafusion::functions::expr_fn::isnan;
use datafusion::logical_expr::{lit, Expr, LogicalPlan, LogicalPlanBuilder};
use serde_json::{json, Map, Value as Json};
use std::ops::Not;
use vegalake_planner::values::geo::Projection;

/// Past this many points the fit's signal (which the client's projection reads)
/// would outweigh the chart: the dataset stays with the client.
const POINT_LIMIT: usize = 1_000_000;

/// The projection parameters vega sets (vega-projection's `projectionProperties`
/// that d3-geo's own projections have), and those of its fit.
const SET: &[&str] = &["clipAngle", "clipExtent", "scale", "translate", "center", "rotate", "parallels", "precision", "reflectX", "reflectY"];

/// The longitude and latitude fields, refusing computed ones (`{"expr": ...}`).
fn lon_lat(input: &TransformInput) -> Result<Option<[String; 2]>> {
    let raw = input.params.transform.param("fields");
    if raw.and_then(Json::as_array).is_some_and(|f| f.iter().any(|v| v.get("expr").is_some())) {
        return unsupported("coordinates computed by an expression");
    }
    match input.params.fields("fields")?.as_slice() {
        [] => Ok(None),
        [Some(lon), Some(lat)] => Ok(Some([lon.clone(), lat.clone()])),
        _ => invalid("'fields' must name a longitude and a latitude field"),
    }
}

fn lower_geojson(input: TransformInput) -> Result<Step> {
    input.params.only(&["fields", "geojson", "signal"])?;
    if input.params.transform.param("geojson").is_some() {
        return unsupported("features of a field (a fit to lines and polygons is computed on the client)");
    }
    let Some([lon, lat]) = lon_lat(&input)? else { return unsupported("features from whole rows") };
    let signal = input.params.string("signal")?;
    let query = points_query(&input.plan, &lon, &lat)?;
    let plan = input.plan;
    Ok(Step::Query {
        query,
        resume: Box::new(move |batches, _| {
            let points = read_points(&batches);
            if points.len() > POINT_LIMIT {
                return unsupported(format!("more than {POINT_LIMIT} points to fit a projection to"));
            }
            let value = json!({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "MultiPoint", "coordinates": points}}]});
            Ok(Step::Plan { plan, signals: signal.map(|s| vec![(s, value)]).unwrap_or_default() })
        }),
    })
}

/// A field as JavaScript's `+v` (any type, values of several types included) and
/// whether it is neither null nor undefined (`v != null`).
fn number_of(schema: &DFSchema, field: &str) -> Result<(Expr, Expr)> {
    let meta = schema.field_with_unqualified_name(field).map(|f| f.metadata().clone()).unwrap_or_default();
    if meta.contains_key(vegalake_planner::values::JSON_FIELD_METADATA) {
        let text = col(field);
        let present = text.clone().is_not_null().and(text.clone().not_eq(lit("null")));
        return Ok((json_to_number(text, vegalake_planner::values::nulls_are_undefined(&meta)), present));
    }
    let t = column(schema, field)?;
    Ok((to_number(&t), t.expr.is_not_null()))
}

/// `[+lon, +lat]` of the rows where neither is null and both are numbers, in row order.
fn points_query(plan: &LogicalPlan, lon: &str, lat: &str) -> Result<LogicalPlan> {
    let ((x, lon_present), (y, lat_present)) = (number_of(plan.schema(), lon)?, number_of(plan.schema(), lat)?);
    let valid = lon_present.and(lat_present).and(isnan(x.clone()).not()).and(isnan(y.clone()).not());
    let mut points = LogicalPlanBuilder::from(plan.clone()).filter(valid)?;
    if has_column(plan, ROW) {
        points = points.sort(vec![col(ROW).sort(true, false)])?;
    }
    Ok(points.limit(0, Some(POINT_LIMIT + 1))?.project(vec![x.alias("x"), y.alias("y")])?.build()?)
}

fn read_points(batches: &[RecordBatch]) -> Vec<[f64; 2]> {
    let mut points = Vec::new();
    for b in batches {
        let (x, y) = (b.column(0).as_primitive::<Float64Type>(), b.column(1).as_primitive::<Float64Type>());
        points.extend((0..b.num_rows()).filter(|&i| !x.is_null(i) && !y.is_null(i)).map(|i| [x.value(i), y.value(i)]));
    }
    points
}

fn lower_geopoint(input: TransformInput) -> Result<Step> {
    input.params.only(&["projection", "fields", "as"])?;
    let Some(name) = input.params.string("projection")? else { return invalid("geopoint needs 'projection'") };
    let Some([lon, lat]) = lon_lat(&input)? else { return invalid("geopoint needs 'fields'") };
    let [x_name, y_name] = input.params.output_pair("as", ["x", "y"])?;
    let (params, albers_usa) = projection_params(input.env, &name).map_err(|e| e.at(&format!("projection '{name}'")))?;
    let schema = input.plan.schema();
    let ((lon_n, _), (lat_n, _)) = (number_of(schema, &lon)?, number_of(schema, &lat)?);
    let axis = |i: f64| udf::call("vl_geo_point", vec![lit(params.clone()), lit(i), lon_n.clone(), lat_n.clone()]);
    // Albers USA leaves x and y undefined outside its parts.
    let x: Expr = alias_undefined_nulls(axis(0.0), &x_name, albers_usa, schema);
    let y: Expr = alias_undefined_nulls(axis(1.0), &y_name, albers_usa, schema);
    Step::plan(with_columns(input.plan, vec![(x_name, x), (y_name, y)])?)
}

/// The final parameters of projection `name` (fitted, as JSON text for
/// `vl_geo_point`), and whether it is Albers USA.
fn projection_params(env: &dyn Environment, name: &str) -> Result<(String, bool)> {
    let params = fitted_projection(env, name)?;
    let albers_usa = params.get("type").and_then(Json::as_str).is_some_and(|t| t.eq_ignore_ascii_case("albersusa"));
    Ok((Json::Object(params).to_string(), albers_usa))
}

/// Projection `name` as the server computes it: `type` and the parameters vega
/// sets, its signals read and its `fit` applied (`scale` and `translate` are then
/// the fitted ones, and `fit`, `size` and `extent` are gone). The same projection
/// with these constants in place of its fit is the one vega.js would compute.
pub fn fitted_projection(env: &dyn Environment, name: &str) -> Result<Map<String, Json>> {
    let Some(Json::Object(def)) = env.projection(name) else { return invalid("no projection of this name is declared") };
    let mut params = Map::new();
    for (key, value) in &def {
        match key.as_str() {
            "name" | "pointRadius" => {}
            "type" | "fit" | "size" | "extent" => {
                params.insert(key.clone(), resolve_signals(value, env)?);
            }
            k if SET.contains(&k) => {
                params.insert(key.clone(), resolve_signals(value, env)?);
            }
            other => return unsupported(format!("parameter '{other}'")),
        }
    }
    let kind = match params.get("type") {
        None | Some(Json::Null) => "mercator".to_string(),
        Some(Json::String(t)) => t.clone(),
        Some(other) => return invalid(format!("type {other}")),
    };
    let mut projection = Projection::new(&kind, &params).map_err(LowerError::Unsupported)?;
    if let Some(fit) = params.get("fit").filter(|f| !f.is_null()) {
        let mut points = Vec::new();
        fit_points(fit, &mut points)?;
        let extent = match (params.get("extent").filter(|e| !e.is_null()), params.get("size").filter(|s| !s.is_null())) {
            (Some(e), _) => Some(pair_of_pairs(e)?),
            (None, Some(s)) => Some([[0.0, 0.0], pair(s)?]),
            (None, None) => None,
        };
        if let Some(extent) = extent {
            if projection.fit_extent(extent, &points).is_none() {
                return unsupported("a fit to no points");
            }
            let (scale, translate) = projection.scale_and_translate();
            params.insert("scale".into(), json!(scale));
            params.insert("translate".into(), json!(translate));
        }
    }
    let mut out: Map<String, Json> = params.into_iter().filter(|(k, _)| SET.contains(&k.as_str())).collect();
    out.insert("type".into(), Json::String(kind));
    Ok(out)
}

/// The points of a fit's GeoJSON (vega's `collectGeoJSON`: collections, features,
/// geometries and arrays of them); lines and polygons are the client's.
fn fit_points(v: &Json, out: &mut Vec<[f64; 2]>) -> Result<()> {
    let coordinates = |c: &Json| -> Result<[f64; 2]> {
        match c.as_array().map(Vec::as_slice) {
            Some([x, y, ..]) => Ok([x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN)]),
            _ => unsupported(format!("a fit to the position {c}")),
        }
    };
    match v {
        Json::Null => Ok(()),
        Json::Array(items) => items.iter().try_for_each(|i| fit_points(i, out)),
        Json::Object(o) => match o.get("type").and_then(Json::as_str) {
            Some("FeatureCollection") => o.get("features").map_or(Ok(()), |f| fit_points(f, out)),
            Some("Feature") => o.get("geometry").map_or(Ok(()), |g| fit_points(g, out)),
            Some("Point") => {
                out.push(coordinates(o.get("coordinates").unwrap_or(&Json::Null))?);
                Ok(())
            }
            Some("MultiPoint") => {
                for c in o.get("coordinates").and_then(Json::as_array).into_iter().flatten() {
                    out.push(coordinates(c)?);
                }
                Ok(())
            }
            Some(other) => unsupported(format!("a fit to {other} geometries (computed on the client)")),
            None => unsupported("a fit to objects that are not GeoJSON"),
        },
        other => unsupported(format!("a fit to {other}")),
    }
}

fn pair(v: &Json) -> Result<[f64; 2]> {
    match v.as_array().map(Vec::as_slice) {
        Some([a, b]) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => Ok([a, b]),
            _ => invalid(format!("expected two numbers, got {v}")),
        },
        _ => invalid(format!("expected two numbers, got {v}")),
    }
}

fn pair_of_pairs(v: &Json) -> Result<[[f64; 2]; 2]> {
    match v.as_array().map(Vec::as_slice) {
        Some([a, b]) => Ok([pair(a)?, pair(b)?]),
        _ => invalid(format!("expected [[x0, y0], [x1, y1]], got {v}")),
    }
}

pub(super) const GEOJSON: TransformDef = TransformDef {
    name: "geojson",
    evaluation: super::Evaluation::Server(lower_geojson),
    partition: super::Partition::No("its signal collects the points of all rows"),
    rows: super::Rows::Whole,
};

pub(super) const GEOPOINT: TransformDef = TransformDef {
    name: "geopoint",
    evaluation: super::Evaluation::Server(lower_geopoint),
    partition: super::Partition::No("its projection is fitted to the points of all rows"),
    rows: super::Rows::Whole,
};
