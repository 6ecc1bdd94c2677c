//! vega-statistics' regression models (adapted there from d3-regression), ported
//! operation by operation: constant, linear, log, exp, pow and quad fits of valid
//! (x, y) points. `poly` and `loess` are not ported.

/// A fitted model.
pub struct Fit {
    predict: Box<dyn Fn(f64) -> f64>,
}

impl Fit {
    pub fn predict(&self, x: f64) -> f64 {
        (self.predict)(x)
    }
}

/// Ordinary least squares from running means.
fn ols(ux: f64, uy: f64, uxy: f64, ux2: f64) -> (f64, f64) {
    let delta = ux2 - ux * ux;
    let slope = if delta.abs() < 1e-24 { 0.0 } else { (uxy - ux * uy) / delta };
    (uy - slope * ux, slope)
}

/// Running means of (f(x), g(y), f(x)·g(y), f(x)²) over the points.
fn means(points: &[(f64, f64)], fx: impl Fn(f64) -> f64, gy: impl Fn(f64) -> f64) -> (f64, f64, f64, f64) {
    let (mut x, mut y, mut xy, mut x2, mut n) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(px, py) in points {
        let (dx, dy) = (fx(px), gy(py));
        n += 1.0;
        x += (dx - x) / n;
        y += (dy - y) / n;
        xy += (dx * dy - xy) / n;
        x2 += (dx * dx - x2) / n;
    }
    (x, y, xy, x2)
}

/// vega's `points`: the means of x and y (running), and the mean-centered points.
fn centered(points: &[(f64, f64)]) -> (Vec<(f64, f64)>, f64, f64) {
    let (mut ux, mut uy) = (0.0, 0.0);
    for (i, &(x, y)) in points.iter().enumerate() {
        ux += (x - ux) / (i + 1) as f64;
        uy += (y - uy) / (i + 1) as f64;
    }
    (points.iter().map(|&(x, y)| (x - ux, y - uy)).collect(), ux, uy)
}

/// Fits `method` to the valid points; `None` for methods not ported.
pub fn fit(method: &str, points: &[(f64, f64)]) -> Option<Fit> {
    let predict: Box<dyn Fn(f64) -> f64> = match method {
        "constant" => {
            let mut mean = 0.0;
            for (i, &(_, y)) in points.iter().enumerate() {
                mean += (y - mean) / (i + 1) as f64;
            }
            Box::new(move |_| mean)
        }
        "linear" => {
            let (x, y, xy, x2) = means(points, |x| x, |y| y);
            let (c0, c1) = ols(x, y, xy, x2);
            Box::new(move |x| c0 + c1 * x)
        }
        "log" => {
            let (x, y, xy, x2) = means(points, f64::ln, |y| y);
            let (c0, c1) = ols(x, y, xy, x2);
            Box::new(move |x| c0 + c1 * x.ln())
        }
        "pow" => {
            let (x, y, xy, x2) = means(points, f64::ln, f64::ln);
            let (c0, c1) = ols(x, y, xy, x2);
            let a = c0.exp();
            Box::new(move |x| a * x.powf(c1))
        }
        "exp" => {
            let (xv, ux, uy) = centered(points);
            let (mut yl, mut xy, mut xyl, mut x2y, mut n) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (&(_, dy), &(dx, _)) in points.iter().zip(&xv) {
                n += 1.0;
                let ly = dy.ln();
                let p = dx * dy;
                yl += (dy * ly - yl) / n;
                xy += (p - xy) / n;
                xyl += (p * ly - xyl) / n;
                x2y += (dx * p - x2y) / n;
            }
            let (c0, c1) = ols(xy / uy, yl / uy, xyl / uy, x2y / uy);
            Box::new(move |x| (c0 + c1 * (x - ux)).exp())
        }
        "quad" => {
            let (v, ux, uy) = centered(points);
            let (mut x2s, mut x3, mut x4, mut xy, mut x2y) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (i, &(dx, dy)) in v.iter().enumerate() {
                let n = (i + 1) as f64;
                let x2 = dx * dx;
                x2s += (x2 - x2s) / n;
                x3 += (x2 * dx - x3) / n;
                x4 += (x2 * x2 - x4) / n;
                xy += (dx * dy - xy) / n;
                x2y += (x2 * dy - x2y) / n;
            }
            let x2x2 = x4 - x2s * x2s;
            let d = x2s * x2x2 - x3 * x3;
            let a = (x2y * x2s - xy * x3) / d;
            let b = (xy * x2x2 - x2y * x3) / d;
            let c = -a * x2s;
            Box::new(move |x| {
                let x = x - ux;
                a * x * x + b * x + c + uy
            })
        }
        _ => return None,
    };
    Some(Fit { predict })
}
