//! What the benchmarks share: where the repository, the vega-datasets files and the
//! benchmark's own files are, and the median of timings.

use std::path::PathBuf;
use std::time::Duration;

/// The repository's root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("executors/ is in the repository").to_path_buf()
}

/// The vega-datasets files (`$VEGALAKE_VEGA_DATASETS`, else the harness's npm package).
pub fn vega_datasets() -> PathBuf {
    std::env::var("VEGALAKE_VEGA_DATASETS").map(PathBuf::from).unwrap_or_else(|_| repo().join("integration-tests/harness/node_modules/vega-datasets/data"))
}

/// Where the benchmarks write their data (`$VEGALAKE_BENCH_DIR`), created.
pub fn bench_dir() -> PathBuf {
    let dir = PathBuf::from(std::env::var("VEGALAKE_BENCH_DIR").unwrap_or_else(|_| "/var/tmp/vegalake-bench".into()));
    std::fs::create_dir_all(&dir).expect("bench dir");
    dir
}

pub fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}
