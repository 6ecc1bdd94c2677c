//! Interactions replayed through `ChartState`: for each spec of `interactions/`, the
//! updates a client would send (a brush's store, a slider's signal, ...) are applied
//! one by one, and after each the server's datasets must equal what vega.js computes
//! after the same changes (`interactions/expected/`, from
//! `harness/regenerate-interactions.sh`). An update may only return datasets that
//! depend on what it changed.

use crate::{columns, read_json, restrict, root};
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use vegalake_executors::{ChartOptions, ChartState, Runtime, VarValue};
use vegalake_integration_tests::compare_datasets;
use vegalake_planner::{Namespace, Spec, SpecGraph, Var};

/// Datasets that read (through sources, transforms or signals) any of `changed`.
fn dependents(graph: &SpecGraph, changed: &[Var]) -> HashSet<Var> {
    let mut hit: HashSet<Var> = changed.iter().cloned().collect();
    loop {
        let before = hit.len();
        for s in &graph.signals {
            if s.reads.signals.iter().chain(&s.reads.datasets).any(|v| hit.contains(v)) {
                hit.insert(s.var.clone());
            }
        }
        for d in &graph.datasets {
            let reads = d.transforms.iter().chain([&d.input]).flat_map(|r| r.signals.iter().chain(&r.datasets));
            if d.sources.iter().chain(reads).any(|v| hit.contains(v)) {
                hit.insert(d.var.clone());
            }
        }
        if hit.len() == before {
            return hit;
        }
    }
}

/// Compares the server's current datasets with one step of vega.js; returns how many
/// were compared.
fn check_step(name: &str, step: usize, current: &HashMap<String, Json>, expected: &Json, failures: &mut Vec<String>) -> usize {
    let mut compared = 0;
    for (ds, rows) in current {
        let diff = if let Some(count) = expected["counts"].get(ds) {
            (rows.as_array().map(Vec::len) != count.as_u64().map(|c| c as usize))
                .then(|| format!("{} rows, vega.js has {count}", rows.as_array().map_or(0, Vec::len)))
        } else if let Some(theirs) = expected["datasets"].get(ds) {
            compare_datasets(rows, &restrict(theirs, &columns(rows)), false)
        } else {
            continue;
        };
        compared += 1;
        if let Some(d) = diff {
            failures.push(format!("{name} step {step} {ds}: {d}"));
        }
    }
    compared
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_interactions_match_vega_js() {
    let dir = root().join("interactions");
    let mut names: Vec<String> = std::fs::read_dir(dir.join("expected"))
        .expect("interactions/expected")
        .map(|e| e.unwrap().file_name().to_string_lossy().replace(".json", ""))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{} interaction specs", names.len());
    let runtime = Arc::new(Runtime::default());
    // Each brush waits for its cube: every indexable answer is compared.
    runtime.brush_indexes().set_background(false);
    let (mut failures, mut compared, mut updates_applied) = (Vec::new(), 0, 0);
    for name in &names {
        let expected = read_json(&dir.join("expected").join(format!("{name}.json")));
        let updates: Vec<Vec<VarValue>> = serde_json::from_value(read_json(&dir.join(format!("{name}.updates.json")))).expect("updates");
        let spec: Spec = serde_json::from_value(expected["spec"].clone()).expect("a Vega spec");
        let graph = SpecGraph::new(&spec);
        let options = ChartOptions { data: vegalake_executors::DataAccess::new(root().join("datasets")), ..ChartOptions::default() };
        let mut chart = match ChartState::open(runtime.clone(), &spec, options).await {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{name}: open failed: {e}"));
                continue;
            }
        };
        assert!(!chart.comm_plan().client_to_server.is_empty(), "{name}: the client sends nothing to the server");
        // The datasets the server computes whole, as the client holds them.
        let mut current: HashMap<String, Json> = HashMap::new();
        for d in chart.client_spec().data() {
            let shipped = chart.comm_plan().server_to_client.contains(&Var::data(&d.name, &[]));
            if let (true, None, Some(v)) = (shipped, &d.transform, &d.values) {
                current.insert(d.name.clone(), v.clone());
            }
        }
        let steps = expected["steps"].as_array().expect("steps");
        let mut spec_compared = check_step(name, 0, &current, &steps[0], &mut failures);
        let mut returned_any = false;
        for (i, update) in updates.iter().enumerate() {
            let changed_vars: Vec<Var> = update.iter().map(|u| Var { namespace: u.namespace, name: u.name.clone(), scope: u.scope.clone() }).collect();
            let allowed = dependents(&graph, &changed_vars);
            match chart.update(update).await {
                Ok(changed) => {
                    for c in changed.into_iter().filter(|c| c.namespace == Namespace::Data) {
                        if !allowed.contains(&Var::data(&c.name, &c.scope)) {
                            failures.push(format!("{name} update {i}: returned {} which does not depend on the update", c.name));
                        }
                        returned_any = true;
                        if let Some(value) = current.get_mut(&c.name) {
                            *value = c.value;
                        }
                    }
                }
                Err(e) => failures.push(format!("{name} update {i}: {e}")),
            }
            updates_applied += 1;
            spec_compared += check_step(name, i + 1, &current, &steps[i + 1], &mut failures);
        }
        if spec_compared == 0 || !returned_any {
            failures.push(format!("{name}: nothing was compared or no update changed a dataset"));
        }
        compared += spec_compared;
    }
    let (indexed, in_process) = (runtime.brush_indexes().answered(), runtime.brush_indexes().answered_in_process());
    println!(
        "interactions: {} specs, {updates_applied} updates replayed, {compared} dataset states equal to vega.js, {indexed} answered from brush indexes ({in_process} without a query plan)",
        names.len()
    );
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    // The crossfilters' brushes go through brush indexes: these states are vega.js's.
    assert!(indexed > 0, "no update was answered from a brush index");
    assert!(in_process > 0, "no brush index answer ran in process");
}
