//! `density`: samples a distribution's pdf or cdf over an extent. Distributions:
//! `normal`, `uniform` (pure functions of their parameters) and `kde` over a field of
//! the input; `lognormal`, `mixture` and `kde` over another dataset (`from`) stay on
//! the client.

use super::generated::{read_groups, values_query, Rows};
use super::kde::{extent, group_kde};
use super::{Step, TransformDef, TransformInput};
use crate::error::{invalid, unsupported, LowerError, Result};
use crate::lower::{column, sometimes_undefined};
use crate::plan::col;
use crate::vtype::VType;
use serde_json::{Map, Value as Json};
use vegalake_planner::values::statistics::{cumulative_normal, density_normal, sample_curve, Kde};

/// A distribution that needs no data.
#[derive(Clone, Copy)]
enum Parametric {
    Normal { mean: f64, stdev: f64 },
    Uniform { min: f64, max: f64 },
}

impl Parametric {
    fn eval(self, x: f64, cdf: bool) -> f64 {
        match self {
            Parametric::Normal { mean, stdev } => {
                let z = (x - mean) / stdev;
                if cdf {
                    cumulative_normal(z)
                } else {
                    density_normal(z) / stdev
                }
            }
            Parametric::Uniform { min, max } => match cdf {
                true if x < min => 0.0,
                true if x > max => 1.0,
                true => (x - min) / (max - min),
                false if x >= min && x <= max => 1.0 / (max - min),
                false => 0.0,
            },
        }
    }
}

fn number(def: &Map<String, Json>, name: &str, default: f64) -> Result<f64> {
    match def.get(name) {
        None | Some(Json::Null) => Ok(default),
        Some(v) => v.as_f64().ok_or_else(|| LowerError::Invalid(format!("distribution {name}: expected a number, got {v}"))),
    }
}

fn lower(input: TransformInput) -> Result<Step> {
    let p = &input.params;
    p.only(&["extent", "steps", "minsteps", "maxsteps", "method", "distribution", "as"])?;
    let method = p.string("method")?.unwrap_or_else(|| "pdf".into());
    let cdf = match method.as_str() {
        "pdf" => false,
        "cdf" => true,
        other => return invalid(format!("Invalid density method: {other}")),
    };
    let (_, min_steps, max_steps) = super::generated::curve_steps(p)?;
    let given_extent = match p.numbers("extent")? {
        Some(e) if e.len() == 2 => Some([e[0], e[1]]),
        Some(_) => return invalid("density extent must be [min, max]"),
        None => None,
    };
    let names = p.output_pair("as", ["value", "density"])?;
    let Some(Json::Object(def)) = p.get("distribution")? else { return invalid("density needs a 'distribution'") };
    let function = def.get("function").and_then(Json::as_str).unwrap_or("");
    let parametric = match function {
        "normal" => Parametric::Normal { mean: number(&def, "mean", 0.0)?, stdev: number(&def, "stdev", 1.0)? },
        "uniform" => Parametric::Uniform { min: number(&def, "min", 0.0)?, max: number(&def, "max", 1.0)? },
        "kde" => return lower_kde(input.plan, &def, given_extent, cdf, (min_steps, max_steps), names),
        "lognormal" | "mixture" => return unsupported(format!("density of a {function} distribution")),
        other => return invalid(format!("Unknown distribution function: {other}")),
    };
    let Some(domain) = given_extent else { return invalid("Missing density extent parameter.") };
    let mut rows = Rows::new(Vec::new());
    for (x, y) in sample_curve(&|x| parametric.eval(x, cdf), domain, min_steps, max_steps) {
        rows.push(&[], &[Some(x), Some(y)]);
    }
    Step::plan(rows.into_plan(&[], &names)?)
}

fn lower_kde(
    plan: datafusion::logical_expr::LogicalPlan,
    def: &Map<String, Json>,
    given_extent: Option<[f64; 2]>,
    cdf: bool,
    (min_steps, max_steps): (usize, usize),
    names: [String; 2],
) -> Result<Step> {
    if def.contains_key("from") {
        return unsupported("density of a kde over another dataset ('from')");
    }
    let Some(field) = def.get("field").and_then(Json::as_str) else { return invalid("a kde distribution needs a 'field'") };
    let field = super::field_name(field)?;
    if column(plan.schema(), &field)?.ty != VType::Number || sometimes_undefined(plan.schema(), &field) {
        return unsupported("kde of a field that is not always a number or null");
    }
    let bandwidth = number(def, "bandwidth", 0.0)?;
    let query = values_query(&plan, &[], vec![col(&field)])?;
    Ok(Step::Query {
        query,
        resume: Box::new(move |batches, _| {
            let values: Vec<Option<f64>> = read_groups(&batches, 0)?.into_iter().flat_map(|mut g| g.columns.remove(0)).collect();
            let (support, bw) = group_kde(&values, bandwidth);
            let kde = Kde { support: &support, bandwidth: bw };
            let domain = given_extent.or_else(|| extent(values.iter().flatten().copied())).unwrap_or([f64::NAN, f64::NAN]);
            let mut rows = Rows::new(Vec::new());
            for (x, y) in sample_curve(&|x| if cdf { kde.cdf(x) } else { kde.pdf(x) }, domain, min_steps, max_steps) {
                rows.push(&[], &[Some(x), Some(y)]);
            }
            Step::plan(rows.into_plan(&[], &names)?)
        }),
    })
}

pub(super) const DEF: TransformDef = TransformDef {
    name: "density",
    evaluation: super::Evaluation::Server(lower),
    partition: super::Partition::No("it has no groups to make one per key"),
    rows: super::Rows::Fields,
};
