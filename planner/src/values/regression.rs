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

/// vega-statistics' `loess` (locally weighted regression with two robustness
/// iterations) over the valid points; `bandwidth` is the fraction of nearest
/// neighbours. Returns one (x, y) per distinct x, as vega does (including its way of
/// averaging repeated x values).
pub fn loess(points: &[(f64, f64)], bandwidth: f64) -> Vec<(f64, f64)> {
    const MAX_ITERS: usize = 2;
    const EPSILON: f64 = 1e-12;
    // vega's `points(..., sort = true)`: a stable sort by x, then means, then centering.
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    let (centered, ux, uy) = centered(&sorted);
    let xv: Vec<f64> = centered.iter().map(|p| p.0).collect();
    let yv: Vec<f64> = centered.iter().map(|p| p.1).collect();
    let n = xv.len();
    if n == 0 {
        return Vec::new();
    }
    // `Math.max(2, ~~(bandwidth * n))`: a huge bandwidth wraps as JavaScript's does.
    let bw = 2.max(super::number::js_to_int32(bandwidth * n as f64)) as usize;
    let mut yhat = vec![0.0; n];
    let mut residuals = vec![0.0; n];
    let mut robust = vec![1.0; n];
    let x_at = |i: usize| xv.get(i).copied().unwrap_or(f64::NAN);
    for iter in 0..=MAX_ITERS {
        let mut interval = [0usize, bw - 1];
        for i in 0..n {
            let dx = xv[i];
            let (i0, i1) = (interval[0], interval[1]);
            let edge = if dx - x_at(i0) > x_at(i1) - dx { i0 } else { i1 };
            let span = (x_at(edge) - dx).abs();
            let denom = 1.0 / if span == 0.0 || span.is_nan() { 1.0 } else { span };
            let (mut w_sum, mut x, mut y, mut xy, mut x2) = (0.0, 0.0, 0.0, 0.0, 0.0);
            // With fewer points than neighbours, vega reads past the end: the first
            // point past it makes the sums NaN, and so would every later one (a
            // bandwidth of 2^31 points read 2^31 of them per point).
            for k in i0..=i1.min(n) {
                let (xk, yk) = (x_at(k), yv.get(k).copied().unwrap_or(f64::NAN));
                let w = tricube((dx - xk).abs() * denom) * robust.get(k).copied().unwrap_or(f64::NAN);
                let xkw = xk * w;
                w_sum += w;
                x += xkw;
                y += yk * w;
                xy += yk * xkw;
                x2 += xk * xkw;
            }
            let (a, b) = ols(x / w_sum, y / w_sum, xy / w_sum, x2 / w_sum);
            yhat[i] = a + b * dx;
            residuals[i] = (yv[i] - yhat[i]).abs();
            update_interval(&xv, i + 1, &mut interval);
        }
        if iter == MAX_ITERS {
            break;
        }
        let mut r = residuals.clone();
        r.sort_by(f64::total_cmp);
        let median = super::statistics::quantile_sorted(&r, 0.5).unwrap_or(f64::NAN);
        if median.abs() < EPSILON {
            break;
        }
        for i in 0..n {
            let arg = residuals[i] / (6.0 * median);
            robust[i] = if arg >= 1.0 {
                EPSILON
            } else {
                let w = 1.0 - arg * arg;
                w * w
            };
        }
    }
    // vega's output: repeated x values fold into one point; its running update starts
    // its divisor at 1, so the second value replaces the first.
    let mut out: Vec<(f64, f64)> = Vec::new();
    let mut count = 0.0;
    for i in 0..n {
        let v = xv[i] + ux;
        match out.last_mut() {
            Some(prev) if prev.0 == v => {
                count += 1.0;
                prev.1 += (yhat[i] - prev.1) / count;
            }
            _ => {
                count = 0.0;
                if let Some(prev) = out.last_mut() {
                    prev.1 += uy;
                }
                out.push((v, yhat[i]));
            }
        }
    }
    if let Some(prev) = out.last_mut() {
        prev.1 += uy;
    }
    out
}

fn tricube(x: f64) -> f64 {
    let x = 1.0 - x * x * x;
    x * x * x
}

fn update_interval(xv: &[f64], i: usize, interval: &mut [usize; 2]) {
    let Some(&val) = xv.get(i) else { return };
    let (mut left, mut right) = (interval[0], interval[1] + 1);
    if right >= xv.len() {
        return;
    }
    while i > left && xv[right] - val <= val - xv[left] {
        left += 1;
        interval[0] = left;
        interval[1] = right;
        right += 1;
        if right >= xv.len() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &[(f64, f64)], b: &[(f64, f64)]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(p, q)| p.0.to_bits() == q.0.to_bits() && p.1.to_bits() == q.1.to_bits())
    }

    #[test]
    fn loess_bandwidths_count_neighbours_as_javascript_does() {
        let points: Vec<(f64, f64)> = (0..9).map(|i| (i as f64, ((i * 7) % 5) as f64)).collect();
        // ~~(2^64 * 9) is 0 in JavaScript: two neighbours, as a bandwidth of 2/9 gives.
        // (The fuzzer's 18446744073709551615 held a server thread forever.)
        assert!(same(&loess(&points, 18_446_744_073_709_551_615.0), &loess(&points, 2.0 / 9.0)));
        // More neighbours than points: vega reads past the end, every estimate NaN.
        let wide = loess(&points, 1e9);
        assert!(wide.len() == 9 && wide.iter().all(|p| p.1.is_nan()), "{wide:?}");
    }
}
