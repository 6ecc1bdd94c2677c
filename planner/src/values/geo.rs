//! d3-geo's projections (3.1, as vega-projection registers them) for points: the
//! forward projection of a longitude and latitude, and `fitExtent`/`fitSize` to
//! point geometries.
//!
//! Each projection repeats d3's arithmetic in d3's order (its setters recenter from
//! the final parameters; its stream drops a point its pre-clip or post-clip rejects
//! before the bounds see it), so the numbers are vega.js's. Lines and polygons
//! (adaptive resampling, antimeridian and rectangle clipping of edges) are not
//! here: a fit to them stays with the client.

use serde_json::{Map, Value as Json};
use std::f64::consts::PI;

const EPSILON: f64 = 1e-6;
const HALF_PI: f64 = PI / 2.0;
const TAU: f64 = PI * 2.0;
const DEGREES: f64 = 180.0 / PI;
const RADIANS: f64 = PI / 180.0;

/// A raw projection: radians in, unit plane out.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Raw {
    Mercator,
    Equirectangular,
    EqualEarth,
    NaturalEarth1,
    Orthographic,
    /// Conic equal-area for the parallels φ0, φ1 (cylindrical where they are symmetric).
    ConicEqualArea {
        phi0: f64,
        n: f64,
        c: f64,
        r0: f64,
    },
    CylindricalEqualArea {
        cos_phi0: f64,
    },
}

impl Raw {
    fn conic_equal_area(phi0: f64, phi1: f64) -> Raw {
        let sy0 = phi0.sin();
        let n = (sy0 + phi1.sin()) / 2.0;
        if n.abs() < EPSILON {
            return Raw::CylindricalEqualArea { cos_phi0: phi0.cos() };
        }
        let c = 1.0 + sy0 * (2.0 * n - sy0);
        Raw::ConicEqualArea { phi0, n, c, r0: c.sqrt() / n }
    }

    fn project(self, lambda: f64, phi: f64) -> [f64; 2] {
        match self {
            Raw::Mercator => [lambda, ((HALF_PI + phi) / 2.0).tan().ln()],
            Raw::Equirectangular => [lambda, phi],
            Raw::EqualEarth => {
                const A1: f64 = 1.340264;
                const A2: f64 = -0.081106;
                const A3: f64 = 0.000893;
                const A4: f64 = 0.003796;
                let m = 3f64.sqrt() / 2.0;
                let l = (m * phi.sin()).asin();
                let l2 = l * l;
                let l6 = l2 * l2 * l2;
                [lambda * l.cos() / (m * (A1 + 3.0 * A2 * l2 + l6 * (7.0 * A3 + 9.0 * A4 * l2))), l * (A1 + A2 * l2 + l6 * (A3 + A4 * l2))]
            }
            Raw::NaturalEarth1 => {
                let phi2 = phi * phi;
                let phi4 = phi2 * phi2;
                [
                    lambda * (0.8707 - 0.131979 * phi2 + phi4 * (-0.013791 + phi4 * (0.003971 * phi2 - 0.001529 * phi4))),
                    phi * (1.007226 + phi2 * (0.015085 + phi4 * (-0.044475 + 0.028874 * phi2 - 0.005916 * phi4))),
                ]
            }
            Raw::Orthographic => [phi.cos() * lambda.sin(), phi.sin()],
            Raw::ConicEqualArea { n, c, r0, .. } => {
                let r = (c - 2.0 * n * phi.sin()).sqrt() / n;
                let x = lambda * n;
                [r * x.sin(), r0 - r * x.cos()]
            }
            Raw::CylindricalEqualArea { cos_phi0 } => [lambda * cos_phi0, phi.sin() / cos_phi0],
        }
    }
}

/// JavaScript's `Math.round`: halves round up, toward +∞.
fn js_round(x: f64) -> f64 {
    let f = x.floor();
    if x - f >= 0.5 {
        f + 1.0
    } else {
        f
    }
}

/// d3's rotation of the sphere by Δλ, Δφ, Δγ (radians).
#[derive(Debug, Clone, Copy)]
struct Rotation {
    lambda: f64,
    phi: f64,
    gamma: f64,
}

impl Rotation {
    fn new(lambda: f64, phi: f64, gamma: f64) -> Rotation {
        Rotation { lambda: lambda % TAU, phi, gamma }
    }

    fn apply(&self, mut lambda: f64, phi: f64) -> [f64; 2] {
        if self.lambda != 0.0 {
            lambda += self.lambda;
        }
        if lambda.abs() > PI {
            lambda -= js_round(lambda / TAU) * TAU;
        }
        if self.phi != 0.0 || self.gamma != 0.0 {
            return self.phi_gamma(lambda, phi, false);
        }
        [lambda, phi]
    }

    fn invert(&self, lambda: f64, phi: f64) -> [f64; 2] {
        let [mut lambda, phi] = if self.phi != 0.0 || self.gamma != 0.0 { self.phi_gamma(lambda, phi, true) } else { [lambda, phi] };
        if self.lambda != 0.0 {
            lambda -= self.lambda;
        }
        if lambda.abs() > PI {
            lambda -= js_round(lambda / TAU) * TAU;
        }
        [lambda, phi]
    }

    fn phi_gamma(&self, lambda: f64, phi: f64, invert: bool) -> [f64; 2] {
        let (cos_dp, sin_dp, cos_dg, sin_dg) = (self.phi.cos(), self.phi.sin(), self.gamma.cos(), self.gamma.sin());
        let cos_phi = phi.cos();
        let x = lambda.cos() * cos_phi;
        let y = lambda.sin() * cos_phi;
        let z = phi.sin();
        if invert {
            let k = z * cos_dg - y * sin_dg;
            [(y * cos_dg + z * sin_dg).atan2(x * cos_dp + k * sin_dp), (k * cos_dp - x * sin_dp).asin()]
        } else {
            let k = z * cos_dp + x * sin_dp;
            [(y * cos_dg - k * sin_dg).atan2(x * cos_dp - z * sin_dp), (k * cos_dg + y * sin_dg).asin()]
        }
    }
}

/// One d3 projection (`projectionMutator`'s state).
#[derive(Debug, Clone)]
struct Single {
    raw: Raw,
    k: f64,
    x: f64,
    y: f64,
    lambda: f64,
    phi: f64,
    rotate: [f64; 3],
    alpha: f64,
    sx: f64,
    sy: f64,
    /// The pre-clip's small circle (radians); `None`: the antimeridian, which keeps every point.
    clip_angle: Option<f64>,
    /// The post-clip rectangle.
    clip_extent: Option<[f64; 4]>,
    /// Mercator's own clip extent, set by the user (`None`: it follows scale and translate).
    mercator_extent: Option<Option<[f64; 4]>>,
    // Derived by `recenter`.
    dx: f64,
    dy: f64,
    rotation: Rotation,
}

impl Single {
    fn new(raw: Raw, scale: f64) -> Single {
        let mut p = Single {
            raw,
            k: 150.0,
            x: 480.0,
            y: 250.0,
            lambda: 0.0,
            phi: 0.0,
            rotate: [0.0; 3],
            alpha: 0.0,
            sx: 1.0,
            sy: 1.0,
            clip_angle: None,
            clip_extent: None,
            mercator_extent: (raw == Raw::Mercator).then_some(None),
            dx: 0.0,
            dy: 0.0,
            rotation: Rotation::new(0.0, 0.0, 0.0),
        };
        p.set_scale(scale);
        p
    }

    fn recenter(&mut self) {
        let c = self.raw.project(self.lambda, self.phi);
        let center = self.scale_translate(0.0, 0.0, c);
        self.dx = self.x - center[0];
        self.dy = self.y - center[1];
        self.rotation = Rotation::new(self.rotate[0], self.rotate[1], self.rotate[2]);
        self.reclip();
    }

    /// d3's `scaleTranslate` (or `scaleTranslateRotate` with an angle).
    fn scale_translate(&self, dx: f64, dy: f64, p: [f64; 2]) -> [f64; 2] {
        let (x, y) = (p[0] * self.sx, p[1] * self.sy);
        if self.alpha == 0.0 {
            return [dx + self.k * x, dy - self.k * y];
        }
        let (a, b) = (self.alpha.cos() * self.k, self.alpha.sin() * self.k);
        [a * x - b * y + dx, dy - b * x - a * y]
    }

    /// Mercator keeps its post-clip at ±π·scale around the projected origin.
    fn reclip(&mut self) {
        let Some(user) = self.mercator_extent else { return };
        let k = PI * self.k;
        let degrees = [self.rotate[0] * DEGREES, self.rotate[1] * DEGREES, self.rotate[2] * DEGREES];
        let back = Rotation::new(degrees[0] * RADIANS, degrees[1] * RADIANS, degrees[2] * RADIANS).invert(0.0, 0.0);
        let t = self.project_degrees(back[0] * DEGREES, back[1] * DEGREES);
        self.clip_extent = Some(match user {
            None => [t[0] - k, t[1] - k, t[0] + k, t[1] + k],
            Some([x0, y0, x1, y1]) => [(t[0] - k).max(x0), y0, (t[0] + k).min(x1), y1],
        });
    }

    fn set_scale(&mut self, k: f64) {
        self.k = k;
        self.recenter();
    }

    fn set_translate(&mut self, t: [f64; 2]) {
        (self.x, self.y) = (t[0], t[1]);
        self.recenter();
    }

    fn set_center(&mut self, c: [f64; 2]) {
        (self.lambda, self.phi) = (c[0] % 360.0 * RADIANS, c[1] % 360.0 * RADIANS);
        self.recenter();
    }

    fn set_rotate(&mut self, r: [f64; 3]) {
        self.rotate = [r[0] % 360.0 * RADIANS, r[1] % 360.0 * RADIANS, r[2] % 360.0 * RADIANS];
        self.recenter();
    }

    fn set_parallels(&mut self, p: [f64; 2]) {
        self.raw = Raw::conic_equal_area(p[0] * RADIANS, p[1] * RADIANS);
        self.recenter();
    }

    fn set_clip_extent(&mut self, e: Option<[f64; 4]>) {
        match &mut self.mercator_extent {
            Some(user) => {
                *user = e;
                self.reclip();
            }
            None => self.clip_extent = e,
        }
    }

    /// `projection([lon, lat])`: no clipping.
    fn project_degrees(&self, lon: f64, lat: f64) -> [f64; 2] {
        let r = self.rotation.apply(lon * RADIANS, lat * RADIANS);
        self.scale_translate(self.dx, self.dy, self.raw.project(r[0], r[1]))
    }

    /// A point through `projection.stream`: `None` where a clip drops it.
    fn stream_point(&self, lon: f64, lat: f64) -> Option<[f64; 2]> {
        let r = self.rotation.apply(lon * RADIANS, lat * RADIANS);
        if let Some(radius) = self.clip_angle {
            if r[0].cos() * r[1].cos() <= radius.cos() {
                return None;
            }
        }
        let p = self.scale_translate(self.dx, self.dy, self.raw.project(r[0], r[1]));
        match self.clip_extent {
            Some([x0, y0, x1, y1]) if !(x0 <= p[0] && p[0] <= x1 && y0 <= p[1] && p[1] <= y1) => None,
            _ => Some(p),
        }
    }
}

/// Albers USA: the lower 48, Alaska and Hawaii, each clipped to its own rectangle.
#[derive(Debug, Clone)]
struct AlbersUsa {
    lower48: Single,
    alaska: Single,
    hawaii: Single,
}

impl AlbersUsa {
    fn new() -> AlbersUsa {
        let conic = || {
            let mut p = Single::new(Raw::conic_equal_area(0.0, PI / 3.0), 155.424);
            p.set_center([0.0, 33.6442]);
            p
        };
        let mut lower48 = conic();
        lower48.set_parallels([29.5, 45.5]);
        lower48.set_scale(1070.0);
        lower48.set_translate([480.0, 250.0]);
        lower48.set_rotate([96.0, 0.0, 0.0]);
        lower48.set_center([-0.6, 38.7]);
        let mut alaska = conic();
        alaska.set_rotate([154.0, 0.0, 0.0]);
        alaska.set_center([-2.0, 58.5]);
        alaska.set_parallels([55.0, 65.0]);
        let mut hawaii = conic();
        hawaii.set_rotate([157.0, 0.0, 0.0]);
        hawaii.set_center([-3.0, 19.9]);
        hawaii.set_parallels([8.0, 18.0]);
        let mut usa = AlbersUsa { lower48, alaska, hawaii };
        usa.set_scale(1070.0);
        usa
    }

    fn set_scale(&mut self, k: f64) {
        self.lower48.set_scale(k);
        self.alaska.set_scale(k * 0.35);
        self.hawaii.set_scale(k);
        self.set_translate([self.lower48.x, self.lower48.y]);
    }

    fn set_translate(&mut self, t: [f64; 2]) {
        let (k, x, y) = (self.lower48.k, t[0], t[1]);
        self.lower48.set_translate(t);
        self.lower48.set_clip_extent(Some([x - 0.455 * k, y - 0.238 * k, x + 0.455 * k, y + 0.238 * k]));
        self.alaska.set_translate([x - 0.307 * k, y + 0.201 * k]);
        self.alaska.set_clip_extent(Some([x - 0.425 * k + EPSILON, y + 0.120 * k + EPSILON, x - 0.214 * k - EPSILON, y + 0.234 * k - EPSILON]));
        self.hawaii.set_translate([x - 0.205 * k, y + 0.212 * k]);
        self.hawaii.set_clip_extent(Some([x - 0.214 * k + EPSILON, y + 0.166 * k + EPSILON, x - 0.115 * k - EPSILON, y + 0.234 * k - EPSILON]));
    }

    fn parts(&self) -> [&Single; 3] {
        [&self.lower48, &self.alaska, &self.hawaii]
    }
}

#[derive(Debug, Clone)]
enum Kind {
    Single(Box<Single>),
    AlbersUsa(Box<AlbersUsa>),
}

/// A vega projection, its parameters applied.
#[derive(Debug, Clone)]
pub struct Projection {
    kind: Kind,
}

/// The parameters vega sets, in vega-projection's order, and those of the fit.
const PROPERTIES: &[&str] = &["clipAngle", "clipExtent", "scale", "translate", "center", "rotate", "parallels", "precision", "reflectX", "reflectY"];

impl Projection {
    /// The projection of `type` with `params` (resolved values, vega's names) set as
    /// vega's Projection transform sets them; an error names what is not supported.
    pub fn new(kind: &str, params: &Map<String, Json>) -> Result<Projection, String> {
        let single = |raw, scale| Kind::Single(Box::new(Single::new(raw, scale)));
        let mut kind = match kind.to_lowercase().as_str() {
            "mercator" => single(Raw::Mercator, 961.0 / TAU),
            "equirectangular" => single(Raw::Equirectangular, 152.63),
            "equalearth" => single(Raw::EqualEarth, 177.158),
            "naturalearth1" => single(Raw::NaturalEarth1, 175.295),
            "orthographic" => {
                let mut p = Single::new(Raw::Orthographic, 249.5);
                p.clip_angle = Some((90.0 + EPSILON) * RADIANS);
                Kind::Single(Box::new(p))
            }
            "conicequalarea" | "albers" => {
                let mut p = Single::new(Raw::conic_equal_area(0.0, PI / 3.0), 155.424);
                p.set_center([0.0, 33.6442]);
                if kind.eq_ignore_ascii_case("albers") {
                    p.set_parallels([29.5, 45.5]);
                    p.set_scale(1070.0);
                    p.set_translate([480.0, 250.0]);
                    p.set_rotate([96.0, 0.0, 0.0]);
                    p.set_center([-0.6, 38.7]);
                }
                Kind::Single(Box::new(p))
            }
            "albersusa" => Kind::AlbersUsa(Box::new(AlbersUsa::new())),
            other => return Err(format!("projection type '{other}'")),
        };
        for &name in PROPERTIES {
            let Some(value) = params.get(name).filter(|v| !v.is_null()) else { continue };
            set(&mut kind, name, value)?;
        }
        Ok(Projection { kind })
    }

    /// `projection([lon, lat])`; `None` where Albers USA has no part for the point.
    pub fn project(&self, lon: f64, lat: f64) -> Option<[f64; 2]> {
        match &self.kind {
            Kind::Single(p) => Some(p.project_degrees(lon, lat)),
            Kind::AlbersUsa(usa) => usa.parts().iter().find_map(|p| p.stream_point(lon, lat)),
        }
    }

    /// `fitExtent([[x0, y0], [x1, y1]], points)`: scale and translate so that the
    /// points' projected bounds fill the extent. `None` when no point is projected
    /// (d3 would set NaN).
    pub fn fit_extent(&mut self, extent: [[f64; 2]; 2], points: &[[f64; 2]]) -> Option<()> {
        let user_clip = match &mut self.kind {
            Kind::Single(p) if p.mercator_extent.is_none() => p.clip_extent.take(),
            _ => None,
        };
        self.set_scale(150.0);
        self.set_translate([0.0, 0.0]);
        let mut b = [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY];
        let mut bound = |p: [f64; 2]| {
            // d3's boundsPoint: comparisons, so NaN changes nothing.
            if p[0] < b[0] {
                b[0] = p[0];
            }
            if p[0] > b[2] {
                b[2] = p[0];
            }
            if p[1] < b[1] {
                b[1] = p[1];
            }
            if p[1] > b[3] {
                b[3] = p[1];
            }
        };
        for &[lon, lat] in points {
            match &self.kind {
                Kind::Single(p) => p.stream_point(lon, lat).into_iter().for_each(&mut bound),
                Kind::AlbersUsa(usa) => usa.parts().iter().filter_map(|p| p.stream_point(lon, lat)).for_each(&mut bound),
            }
        }
        if !b.iter().all(|v| v.is_finite()) {
            return None;
        }
        let w = extent[1][0] - extent[0][0];
        let h = extent[1][1] - extent[0][1];
        let k = (w / (b[2] - b[0])).min(h / (b[3] - b[1]));
        let x = extent[0][0] + (w - k * (b[2] + b[0])) / 2.0;
        let y = extent[0][1] + (h - k * (b[3] + b[1])) / 2.0;
        self.set_scale(150.0 * k);
        self.set_translate([x, y]);
        if user_clip.is_some() {
            if let Kind::Single(p) = &mut self.kind {
                p.clip_extent = user_clip;
            }
        }
        Some(())
    }

    /// The parameters that rebuild this projection with [`Projection::new`].
    pub fn scale_and_translate(&self) -> (f64, [f64; 2]) {
        let p = match &self.kind {
            Kind::Single(p) => p,
            Kind::AlbersUsa(usa) => &usa.lower48,
        };
        (p.k, [p.x, p.y])
    }

    fn set_scale(&mut self, k: f64) {
        match &mut self.kind {
            Kind::Single(p) => p.set_scale(k),
            Kind::AlbersUsa(usa) => usa.set_scale(k),
        }
    }

    fn set_translate(&mut self, t: [f64; 2]) {
        match &mut self.kind {
            Kind::Single(p) => p.set_translate(t),
            Kind::AlbersUsa(usa) => usa.set_translate(t),
        }
    }
}

/// One property, as vega's `set` calls `proj[name](value)` where the projection has
/// that method (Albers USA has only `scale`, `translate` and `precision`).
fn set(kind: &mut Kind, name: &str, value: &Json) -> Result<(), String> {
    let numbers = |n: usize| -> Result<Vec<f64>, String> {
        let items = value.as_array().ok_or_else(|| format!("projection {name} {value}"))?;
        let v: Vec<f64> = items.iter().map(|x| x.as_f64().ok_or_else(|| format!("projection {name} {value}"))).collect::<Result<_, _>>()?;
        if v.len() < n {
            return Err(format!("projection {name} {value}"));
        }
        Ok(v)
    };
    let number = || value.as_f64().ok_or_else(|| format!("projection {name} {value}"));
    let p = match kind {
        Kind::AlbersUsa(usa) => {
            // Its other methods are its parts' own (`precision` only resamples lines).
            match name {
                "scale" => usa.set_scale(number()?),
                "translate" => numbers(2).map(|t| usa.set_translate([t[0], t[1]]))?,
                _ => {}
            }
            return Ok(());
        }
        Kind::Single(p) => p,
    };
    match name {
        "scale" => p.set_scale(number()?),
        "translate" => numbers(2).map(|t| p.set_translate([t[0], t[1]]))?,
        "center" => numbers(2).map(|c| p.set_center([c[0], c[1]]))?,
        "rotate" => numbers(2).map(|r| p.set_rotate([r[0], r[1], r.get(2).copied().unwrap_or(0.0)]))?,
        "parallels" if matches!(p.raw, Raw::ConicEqualArea { .. } | Raw::CylindricalEqualArea { .. }) => numbers(2).map(|v| p.set_parallels([v[0], v[1]]))?,
        "clipAngle" => {
            let a = number()?;
            p.clip_angle = (a != 0.0).then_some(a * RADIANS);
        }
        "clipExtent" => {
            let e = value.as_array().and_then(|v| Some([v.first()?.as_array()?, v.get(1)?.as_array()?]));
            let e = e.and_then(|[a, b]| Some([a.first()?.as_f64()?, a.get(1)?.as_f64()?, b.first()?.as_f64()?, b.get(1)?.as_f64()?]));
            p.set_clip_extent(Some(e.ok_or_else(|| format!("projection clipExtent {value}"))?));
        }
        "reflectX" | "reflectY" => {
            let s = if value.as_bool().unwrap_or(false) { -1.0 } else { 1.0 };
            if name == "reflectX" {
                p.sx = s;
            } else {
                p.sy = s;
            }
            p.recenter();
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Projection;
    use serde_json::{json, Map, Value as Json};

    fn params(v: Json) -> Map<String, Json> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn close(a: [f64; 2], b: [f64; 2]) -> bool {
        (a[0] - b[0]).abs() <= 1e-9 * b[0].abs().max(1.0) && (a[1] - b[1]).abs() <= 1e-9 * b[1].abs().max(1.0)
    }

    /// A projection type, its parameters, a point and d3's answer for it.
    type Case = (&'static str, Json, [f64; 2], Option<[f64; 2]>);

    /// Expected values are d3-geo 3.1.2's in Node (`geoAlbersUsa()([-122.3, 47.6])`, ...).
    #[test]
    fn projections_give_d3s_numbers() {
        let cases: &[Case] = &[
            ("albersUsa", json!({}), [-122.3, 47.6], Some([159.4628710491836, 37.30722390259177])),
            ("albersUsa", json!({}), [-149.9, 61.2], Some([171.17122462409534, 447.062592258631])),
            ("albersUsa", json!({}), [-157.8, 21.3], Some([299.4995950411043, 451.1187364729819])),
            ("albersUsa", json!({}), [0.0, 0.0], None),
            ("mercator", json!({}), [10.0, 50.0], Some([506.69444444444446, 95.41812841099093])),
            ("equalEarth", json!({"scale": 100, "translate": [0, 0]}), [-30.0, 60.0], Some([-33.98433479285932, -108.83008355053194])),
            ("orthographic", json!({"rotate": [20, -30]}), [0.0, 50.0], Some([534.8516544430421, 159.8300609328428])),
            ("albers", json!({}), [-100.0, 40.0], Some([431.9724414175537, 224.32635740613182])),
            ("naturalEarth1", json!({"center": [10, 10]}), [0.0, 0.0], Some([453.4845438372814, 280.82984783200357])),
        ];
        for (kind, p, point, expected) in cases {
            let got = Projection::new(kind, &params(p.clone())).unwrap().project(point[0], point[1]);
            match (got, expected) {
                (Some(g), Some(e)) => assert!(close(g, *e), "{kind} {point:?}: {g:?} vs {e:?}"),
                (None, None) => {}
                _ => panic!("{kind} {point:?}: {got:?} vs {expected:?}"),
            }
        }
    }

    #[test]
    fn fits_to_points_as_d3_does() {
        let points = [[-122.3, 47.6], [-71.0, 42.3], [-80.2, 25.8], [-149.9, 61.2], [0.0, 0.0]];
        let mut usa = Projection::new("albersUsa", &Map::new()).unwrap();
        usa.fit_extent([[0.0, 0.0], [500.0, 300.0]], &points).unwrap();
        let (k, t) = usa.scale_and_translate();
        // geoAlbersUsa().fitSize([500, 300], {type: "MultiPoint", coordinates: points})
        assert!(close([k, 0.0], [742.6705766205778, 0.0]) && close(t, [240.56182030904847, 147.62679127784452]), "{k} {t:?}");
        let mut m = Projection::new("mercator", &Map::new()).unwrap();
        m.fit_extent([[0.0, 0.0], [400.0, 400.0]], &[[10.0, 50.0], [-20.0, -30.0], [0.0, 89.9]]).unwrap();
        let (k, t) = m.scale_and_translate();
        assert!(close([k, 0.0], [256.4120097067494, 0.0]) && close(t, [222.37616905519218, 259.15130758703924]), "{k} {t:?}");
        assert!(Projection::new("albersUsa", &Map::new()).unwrap().fit_extent([[0.0, 0.0], [1.0, 1.0]], &[[0.0, 0.0]]).is_none());
        assert!(Projection::new("mollweide", &Map::new()).is_err());
    }
}
