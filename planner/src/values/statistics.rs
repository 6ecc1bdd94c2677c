//! vega-statistics, the parts the server evaluates: the normal distribution, kernel
//! density estimates with Scott's bandwidth, and adaptive curve sampling. Ported
//! operation by operation so that results agree with vega.js to the last bit where
//! the arithmetic allows.

const SQRT2PI: f64 = 2.5066282746310002; // Math.sqrt(2 * Math.PI)

/// `densityNormal(value, 0, 1)`.
pub fn density_normal(z: f64) -> f64 {
    (-0.5 * z * z).exp() / SQRT2PI
}

/// `cumulativeNormal(value, 0, 1)`: West's (2009) approximation.
pub fn cumulative_normal(z: f64) -> f64 {
    let big_z = z.abs();
    let cd = if big_z > 37.0 {
        0.0
    } else {
        let exp = (-big_z * big_z / 2.0).exp();
        if big_z < 7.07106781186547 {
            let mut sum = 3.52624965998911e-02 * big_z + 0.700383064443688;
            for c in [6.37396220353165, 33.912866078383, 112.079291497871, 221.213596169931, 220.206867912376] {
                sum = sum * big_z + c;
            }
            let num = exp * sum;
            let mut sum = 8.83883476483184e-02 * big_z + 1.75566716318264;
            for c in [16.064177579207, 86.7807322029461, 296.564248779674, 637.333633378831, 793.826512519948, 440.413735824752] {
                sum = sum * big_z + c;
            }
            num / sum
        } else {
            let mut sum = big_z + 0.65;
            for k in [4.0, 3.0, 2.0, 1.0] {
                sum = big_z + k / sum;
            }
            exp / sum / 2.506628274631
        }
    };
    if z > 0.0 {
        1.0 - cd
    } else {
        cd
    }
}

/// d3's `deviation`: sample standard deviation (Welford), `None` below two values.
fn deviation(values: &[f64]) -> Option<f64> {
    let (mut count, mut mean, mut sum) = (0.0_f64, 0.0_f64, 0.0_f64);
    for &v in values {
        count += 1.0;
        let delta = v - mean;
        mean += delta / count;
        sum += delta * (v - mean);
    }
    (count > 1.0).then(|| (sum / (count - 1.0)).sqrt())
}

/// d3's `quantileSorted` over sorted values.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    if p <= 0.0 || n < 2 {
        return Some(sorted[0]);
    }
    if p >= 1.0 {
        return Some(sorted[n - 1]);
    }
    let i = (n - 1) as f64 * p;
    let i0 = i.floor() as usize;
    let (v0, v1) = (sorted[i0], sorted[i0 + 1]);
    Some(v0 + (v1 - v0) * (i - i0 as f64))
}

/// Scott's rule as vega-statistics' `estimateBandwidth`; `n` counts every support
/// entry, the statistics only the valid numbers.
pub fn estimate_bandwidth(n: usize, valid: &[f64]) -> f64 {
    let mut sorted = valid.to_vec();
    sorted.sort_by(f64::total_cmp);
    let d = deviation(valid).unwrap_or(f64::NAN);
    let (q1, q3) = (quantile_sorted(&sorted, 0.25).unwrap_or(f64::NAN), quantile_sorted(&sorted, 0.75).unwrap_or(f64::NAN));
    let h = (q3 - q1) / 1.34;
    // Math.min(d, h) || d || Math.abs(q[0]) || 1, with NaN and 0 falsy.
    let truthy = |x: f64| (x != 0.0 && !x.is_nan()).then_some(x);
    let min = if d.is_nan() || h.is_nan() { f64::NAN } else { d.min(h) };
    let v = truthy(min).or(truthy(d)).or(truthy(q1.abs())).unwrap_or(1.0);
    1.06 * v * (n as f64).powf(-0.2)
}

/// A Gaussian kernel density estimate over `support` (nulls count as 0, as
/// JavaScript's arithmetic has them).
pub struct Kde<'a> {
    pub support: &'a [f64],
    pub bandwidth: f64,
}

impl Kde<'_> {
    pub fn pdf(&self, x: f64) -> f64 {
        let y: f64 = self.support.iter().fold(0.0, |y, s| y + density_normal((x - s) / self.bandwidth));
        y / self.bandwidth / self.support.len() as f64
    }

    pub fn cdf(&self, x: f64) -> f64 {
        let y: f64 = self.support.iter().fold(0.0, |y, s| y + cumulative_normal((x - s) / self.bandwidth));
        y / self.support.len() as f64
    }
}

const MIN_RADIANS: f64 = 0.5 * std::f64::consts::PI / 180.0;

/// vega-statistics' `sampleCurve`: adaptive sampling of `f` over `extent`.
pub fn sample_curve(f: &dyn Fn(f64) -> f64, extent: [f64; 2], min_steps: usize, max_steps: usize) -> Vec<(f64, f64)> {
    let min_steps = if min_steps == 0 { 25 } else { min_steps };
    let max_steps = min_steps.max(if max_steps == 0 { 200 } else { max_steps });
    let point = |x: f64| (x, f(x));
    let (min_x, max_x) = (extent[0], extent[1]);
    let span = max_x - min_x;
    let stop = span / max_steps as f64;
    let mut prev = vec![point(min_x)];
    let mut next = Vec::new();
    if min_steps == max_steps {
        for i in 1..max_steps {
            prev.push(point(min_x + (i as f64 / min_steps as f64) * span));
        }
        prev.push(point(max_x));
        return prev;
    }
    next.push(point(max_x));
    for i in (1..min_steps).rev() {
        next.push(point(min_x + (i as f64 / min_steps as f64) * span));
    }
    let mut p0 = prev[0];
    let sx = 1.0 / span;
    let sy = {
        let (mut lo, mut hi) = (p0.1, p0.1);
        for p in &next {
            if p.1 < lo {
                lo = p.1;
            }
            if p.1 > hi {
                hi = p.1;
            }
        }
        1.0 / (hi - lo)
    };
    while let Some(&p1) = next.last() {
        let pm = point((p0.0 + p1.0) / 2.0);
        let dx = pm.0 - p0.0 >= stop;
        if dx && angle_delta(p0, pm, p1, sx, sy) > MIN_RADIANS {
            next.push(pm);
        } else {
            p0 = p1;
            prev.push(p1);
            next.pop();
        }
    }
    prev
}

fn angle_delta(p: (f64, f64), q: (f64, f64), r: (f64, f64), sx: f64, sy: f64) -> f64 {
    let a0 = (sy * (r.1 - p.1)).atan2(sx * (r.0 - p.0));
    let a1 = (sy * (q.1 - p.1)).atan2(sx * (q.0 - p.0));
    (a0 - a1).abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_functions() {
        assert!((cumulative_normal(0.0) - 0.5).abs() < 1e-15);
        assert!((cumulative_normal(1.96) - 0.9750021048517795).abs() < 1e-12);
        assert!((density_normal(0.0) - 0.3989422804014327).abs() < 1e-15);
    }

    #[test]
    fn uniform_grid_when_steps_fixed() {
        let pts = sample_curve(&|x| x * x, [0.0, 1.0], 4, 4);
        assert_eq!(pts.iter().map(|p| p.0).collect::<Vec<_>>(), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    }
}
