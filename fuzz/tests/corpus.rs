//! Every input the fuzzer kept (its corpus, and the crashes since fixed) runs
//! through its target without a panic: what fuzzing found stays fixed.

use std::path::Path;
use std::sync::Mutex;
use vegalake_fuzz::{kept_inputs, run_one, targets};

#[test]
fn the_kept_inputs_run_without_panics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let last_panic = Mutex::new(String::new());
    let mut ran = 0;
    for name in targets::NAMES {
        let mut target = targets::target(name).unwrap();
        for (path, input) in kept_inputs(dir, name) {
            if let Err(panic) = run_one(target.as_mut(), &input, &last_panic) {
                panic!("{}: {panic}", path.display());
            }
            ran += 1;
        }
    }
    println!("fuzz corpus: {ran} kept inputs ran");
    assert!(ran > 0, "no kept input: run scripts/bench.sh fuzz and commit fuzz/corpus");
}

#[test]
fn each_target_runs_its_seeds_and_says_what_came_of_them() {
    for name in ["spec", "expression", "request"] {
        let mut target = targets::target(name).unwrap();
        let outcomes: std::collections::HashSet<String> = targets::seeds(name).iter().take(40).map(|s| target.run(s)).collect();
        assert!(outcomes.len() > 1, "{name}: every seed came out the same: {outcomes:?}");
    }
}
