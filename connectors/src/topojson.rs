//! TopoJSON as vega-loader reads it: `format.feature` names an object of the
//! topology, whose geometries become GeoJSON features (topojson-client's
//! `feature`), one row each.
//!
//! Arcs are delta-encoded and quantized; each point is decoded with the same
//! operations in the same order as topojson-client (`(x0 += dx) * kx + tx`), so
//! the coordinates are the numbers vega.js computes. `format.mesh` (arcs stitched
//! into lines) stays with the client.

use crate::error::{ConnectorError, Result};
use serde_json::{Map, Value as Json};

/// The rows vega reads from TopoJSON text: the features of `format.feature`.
pub fn features(text: &str, format: &Map<String, Json>) -> Result<Json> {
    let mut topology: Json = serde_json::from_str(text).map_err(|e| ConnectorError::Invalid(format!("invalid JSON: {e}")))?;
    if let Some(prop) = format.get("property").and_then(Json::as_str) {
        for part in prop.split('.') {
            topology = topology.get(part).cloned().unwrap_or(Json::Null);
        }
    }
    let name = match (format.get("feature"), format.get("mesh")) {
        (Some(Json::String(name)), _) => name,
        (None, Some(_)) => return Err(ConnectorError::Unsupported("topojson mesh is read on the client".into())),
        _ => return Err(ConnectorError::Invalid("Missing TopoJSON feature or mesh parameter.".into())),
    };
    let Some(object) = topology.get("objects").and_then(|o| o.get(name)) else {
        return Err(ConnectorError::Invalid(format!("Invalid TopoJSON object: {name}")));
    };
    let decoder = Decoder::new(&topology)?;
    Ok(match object.get("type").and_then(Json::as_str) {
        Some("GeometryCollection") => {
            let geometries = object.get("geometries").and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default();
            Json::Array(geometries.iter().map(|g| decoder.feature(g)).collect::<Result<_>>()?)
        }
        // One feature is one row, as vega-loader wraps `[object]`.
        _ => Json::Array(vec![decoder.feature(object)?]),
    })
}

/// Decodes a topology's geometries against its arcs and transform.
struct Decoder<'a> {
    arcs: &'a [Json],
    /// `scale` and `translate` of a quantized topology.
    transform: Option<([f64; 2], [f64; 2])>,
}

type Point = Vec<Json>;

impl<'a> Decoder<'a> {
    fn new(topology: &'a Json) -> Result<Decoder<'a>> {
        let arcs = topology.get("arcs").and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default();
        let transform = match topology.get("transform") {
            None | Some(Json::Null) => None,
            Some(t) => Some((pair(t.get("scale"), "transform.scale")?, pair(t.get("translate"), "transform.translate")?)),
        };
        Ok(Decoder { arcs, transform })
    }

    /// topojson-client's `feature`: `id` and `bbox` only where the geometry has them.
    fn feature(&self, o: &Json) -> Result<Json> {
        let mut f = Map::new();
        f.insert("type".into(), Json::from("Feature"));
        for key in ["id", "bbox"] {
            if let Some(v) = o.get(key).filter(|v| !v.is_null()) {
                f.insert(key.into(), v.clone());
            }
        }
        let properties = o.get("properties").filter(|p| !p.is_null()).cloned().unwrap_or_else(|| Json::Object(Map::new()));
        f.insert("properties".into(), properties);
        f.insert("geometry".into(), self.geometry(o)?);
        Ok(Json::Object(f))
    }

    fn geometry(&self, o: &Json) -> Result<Json> {
        let kind = o.get("type").and_then(Json::as_str).unwrap_or_default();
        let arcs = || o.get("arcs").unwrap_or(&Json::Null);
        let coordinates = match kind {
            "GeometryCollection" => {
                let parts = o.get("geometries").and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default();
                let geometries = parts.iter().map(|g| self.geometry(g)).collect::<Result<Vec<_>>>()?;
                return Ok(serde_json::json!({"type": kind, "geometries": geometries}));
            }
            "Point" => Json::Array(self.position(o.get("coordinates").unwrap_or(&Json::Null), None)?),
            "MultiPoint" => Json::Array(each(o.get("coordinates"), |p| Ok(Json::Array(self.position(p, None)?)))?),
            "LineString" => self.line(arcs())?,
            "MultiLineString" => Json::Array(each(Some(arcs()), |l| self.line(l))?),
            "Polygon" => self.polygon(arcs())?,
            "MultiPolygon" => Json::Array(each(Some(arcs()), |p| self.polygon(p))?),
            _ => return Ok(Json::Null),
        };
        Ok(serde_json::json!({"type": kind, "coordinates": coordinates}))
    }

    /// One position; `x0y0` carries the running sums along an arc (`None`: a
    /// point outside arcs, decoded from zero).
    fn position(&self, p: &Json, x0y0: Option<&mut [f64; 2]>) -> Result<Point> {
        let items = p.as_array().ok_or_else(|| ConnectorError::Invalid("a TopoJSON position is not an array".into()))?;
        let Some((scale, translate)) = self.transform else { return Ok(items.clone()) };
        let mut zero = [0.0, 0.0];
        let sums = x0y0.unwrap_or(&mut zero);
        let mut out = items.clone();
        for axis in 0..2 {
            let delta = items.get(axis).and_then(Json::as_f64).ok_or_else(|| ConnectorError::Invalid("a TopoJSON position lacks a number".into()))?;
            sums[axis] += delta;
            out[axis] = number(sums[axis] * scale[axis] + translate[axis]);
        }
        Ok(out)
    }

    /// Appends arc `i` (reversed when negative: `~i`) to `points`, sharing the
    /// previous arc's last point.
    fn arc(&self, i: i64, points: &mut Vec<Json>) -> Result<()> {
        points.pop();
        let index = if i < 0 { !i } else { i };
        let arc = usize::try_from(index)
            .ok()
            .and_then(|k| self.arcs.get(k))
            .and_then(Json::as_array)
            .ok_or_else(|| ConnectorError::Invalid(format!("TopoJSON arc {index} does not exist")))?;
        let start = points.len();
        let mut sums = [0.0, 0.0];
        for p in arc {
            points.push(Json::Array(self.position(p, Some(&mut sums))?));
        }
        if i < 0 {
            points[start..].reverse();
        }
        Ok(())
    }

    fn line(&self, arcs: &Json) -> Result<Json> {
        let mut points = Vec::new();
        for a in arcs.as_array().map(Vec::as_slice).unwrap_or_default() {
            let i = a.as_i64().ok_or_else(|| ConnectorError::Invalid("a TopoJSON arc index is not an integer".into()))?;
            self.arc(i, &mut points)?;
        }
        // topojson-client's repairs of degenerate lines.
        if points.len() < 2 {
            points.push(points.first().cloned().unwrap_or(Json::Null));
        }
        Ok(Json::Array(points))
    }

    fn ring(&self, arcs: &Json) -> Result<Json> {
        let Json::Array(mut points) = self.line(arcs)? else { unreachable!("line returns an array") };
        while points.len() < 4 {
            points.push(points[0].clone());
        }
        Ok(Json::Array(points))
    }

    fn polygon(&self, arcs: &Json) -> Result<Json> {
        Ok(Json::Array(each(Some(arcs), |r| self.ring(r))?))
    }
}

fn each(items: Option<&Json>, f: impl FnMut(&Json) -> Result<Json>) -> Result<Vec<Json>> {
    items.and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default().iter().map(f).collect()
}

fn pair(v: Option<&Json>, what: &str) -> Result<[f64; 2]> {
    match v.and_then(Json::as_array).map(Vec::as_slice) {
        Some([a, b]) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => Ok([a, b]),
            _ => Err(ConnectorError::Invalid(format!("TopoJSON {what} is not two numbers"))),
        },
        _ => Err(ConnectorError::Invalid(format!("TopoJSON {what} is not two numbers"))),
    }
}

fn number(x: f64) -> Json {
    serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)
}

#[cfg(test)]
mod tests {
    use super::features;
    use serde_json::{json, Map, Value as Json};

    fn format(v: Json) -> Map<String, Json> {
        v.as_object().unwrap().clone()
    }

    /// A quantized topology: two arcs, a polygon using the second reversed.
    const TOPOLOGY: &str = r#"{"type":"Topology","transform":{"scale":[0.5,2],"translate":[10,20]},
        "objects":{"shapes":{"type":"GeometryCollection","geometries":[
            {"type":"LineString","arcs":[0,1],"id":7},
            {"type":"Polygon","arcs":[[-2]],"properties":{"name":"p"}},
            {"type":"Point","coordinates":[4,6]}]}},
        "arcs":[[[0,0],[2,2]],[[2,2],[2,0],[0,2]]]}"#;

    #[test]
    fn features_decode_arcs_as_topojson_client_does() {
        let rows = features(TOPOLOGY, &format(json!({"type": "topojson", "feature": "shapes"}))).unwrap();
        // Arc 0: (0,0),(2,2) → (10,20),(11,24); arc 1: (2,2),(4,2),(4,4) → (11,24),(12,24),(12,28).
        assert_eq!(
            rows[0],
            json!({"type": "Feature", "id": 7, "properties": {}, "geometry": {"type": "LineString", "coordinates": [[10.0, 20.0], [11.0, 24.0], [12.0, 24.0], [12.0, 28.0]]}})
        );
        // Reversed arc 1, padded to four points as a ring.
        assert_eq!(rows[1]["geometry"]["coordinates"], json!([[[12.0, 28.0], [12.0, 24.0], [11.0, 24.0], [12.0, 28.0]]]));
        assert_eq!(rows[1]["properties"], json!({"name": "p"}));
        assert_eq!(rows[2]["geometry"]["coordinates"], json!([12.0, 32.0]));
    }

    #[test]
    fn what_vega_refuses_is_an_error_and_a_mesh_stays_with_the_client() {
        let err = |f: Json| features(TOPOLOGY, &format(f)).unwrap_err().to_string();
        assert!(err(json!({"type": "topojson"})).contains("Missing TopoJSON feature or mesh parameter"));
        assert!(err(json!({"type": "topojson", "feature": "roads"})).contains("Invalid TopoJSON object: roads"));
        assert!(err(json!({"type": "topojson", "mesh": "shapes"})).contains("client"));
    }
}
