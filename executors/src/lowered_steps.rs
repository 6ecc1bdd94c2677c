//! A chart's lowered transforms, kept from one pass to the next.
//!
//! Every update of a chart runs a pass over all its datasets, and each pass
//! lowered every transform again, though most of them (the sources, the extents
//! and bins before a brush's filter, the datasets no brush reaches) had the same
//! input and the same fingerprint as in the pass before: lowering was ~24% of a
//! W1 crossfilter update (perf, release wheel, 10M rows). A step is reused when
//! its fingerprint (the transform, what it reads, its input's identity) and its
//! input plan are those of a step lowered in this pass or the one before; the
//! plan, the signals it defined and what its queries scanned come back as they
//! were. Two generations bound the memory: a step not used in a pass is dropped
//! after the next one.

use crate::cache::Fingerprint;
use datafusion::logical_expr::LogicalPlan;
use serde_json::Value as Json;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::mem;
use std::sync::{Arc, Mutex};
use vegalake_connectors::ScanMetrics;

/// One lowered transform: its input, its output plan, the signals it defined,
/// and what the queries run to lower it scanned.
#[derive(Debug)]
pub(crate) struct LoweredStep {
    pub input: LogicalPlan,
    pub plan: LogicalPlan,
    pub signals: Vec<(String, Json)>,
    pub scans: ScanMetrics,
}

type Key = (Fingerprint, u64);

/// The steps of the current pass and of the one before.
#[derive(Debug, Default)]
pub(crate) struct LoweredSteps(Mutex<Generations>);

#[derive(Debug, Default)]
struct Generations {
    current: HashMap<Key, Arc<LoweredStep>>,
    previous: HashMap<Key, Arc<LoweredStep>>,
}

fn key(fp: Fingerprint, input: &LogicalPlan) -> Key {
    let mut hasher = DefaultHasher::new();
    input.hash(&mut hasher);
    (fp, hasher.finish())
}

impl LoweredSteps {
    /// Starts a pass: the steps the last pass did not use are dropped.
    pub fn next_pass(&self) {
        let mut g = self.0.lock().expect("not poisoned");
        g.previous = mem::take(&mut g.current);
    }

    /// The step with fingerprint `fp` lowered from `input`, if this pass or the
    /// last one lowered it.
    pub fn get(&self, fp: Fingerprint, input: &LogicalPlan) -> Option<Arc<LoweredStep>> {
        let key = key(fp, input);
        let mut g = self.0.lock().expect("not poisoned");
        let step = match g.current.get(&key) {
            Some(step) => Arc::clone(step),
            None => {
                let step = g.previous.remove(&key)?;
                g.current.insert(key, Arc::clone(&step));
                step
            }
        };
        (step.input == *input).then_some(step)
    }

    pub fn keep(&self, fp: Fingerprint, step: LoweredStep) {
        let key = key(fp, &step.input);
        self.0.lock().expect("not poisoned").current.insert(key, Arc::new(step));
    }

    #[cfg(test)]
    fn len(&self) -> (usize, usize) {
        let g = self.0.lock().expect("not poisoned");
        (g.current.len(), g.previous.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::logical_expr::{lit, LogicalPlanBuilder};

    fn plan(v: i64) -> LogicalPlan {
        LogicalPlanBuilder::empty(true).project(vec![lit(v).alias("x")]).unwrap().build().unwrap()
    }

    fn step(input: i64, output: i64) -> LoweredStep {
        LoweredStep { input: plan(input), plan: plan(output), signals: vec![("s".into(), Json::from(output))], scans: ScanMetrics::default() }
    }

    /// A step is found by its fingerprint and input; one unused for a pass is gone
    /// after the next.
    #[test]
    fn steps_are_found_by_fingerprint_and_input_for_two_passes() {
        let steps = LoweredSteps::default();
        let (a, b) = (Fingerprint(1), Fingerprint(2));
        steps.keep(a, step(1, 10));
        steps.keep(b, step(2, 20));
        assert_eq!(steps.get(a, &plan(1)).map(|s| s.plan.clone()), Some(plan(10)));
        assert!(steps.get(a, &plan(2)).is_none(), "another input");
        assert!(steps.get(Fingerprint(3), &plan(1)).is_none(), "another fingerprint");
        steps.next_pass();
        assert_eq!(steps.len(), (0, 2));
        assert_eq!(steps.get(b, &plan(2)).map(|s| s.signals.clone()), Some(vec![("s".into(), Json::from(20))]), "used in the next pass");
        steps.next_pass();
        assert!(steps.get(a, &plan(1)).is_none(), "unused for a pass: dropped");
        assert!(steps.get(b, &plan(2)).is_some(), "used in the pass before: kept");
    }
}
