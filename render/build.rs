//! Embeds the vega and vega-lite builds pinned by the browser client's lockfile
//! (`client/package-lock.json`): one pin for the browser and the renderer, so a
//! chart draws the same in both. `npm ci` installs them when they are missing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    // Read when the script runs, not baked in when it compiles: one target
    // directory serves several clones, and a script compiled in one of them
    // reads the client of the clone that builds now.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let client = Path::new(&manifest).join("../client");
    let client = client.canonicalize().unwrap_or(client);
    println!("cargo:rerun-if-changed={}", client.join("package-lock.json").display());
    println!("cargo:rerun-if-changed=js");
    let modules = client.join("node_modules");
    let builds = [("VEGA", "vega/build/vega.min.js", "vega"), ("VEGA_LITE", "vega-lite/build/vega-lite.min.js", "vega-lite")];
    if builds.iter().any(|(_, file, _)| !modules.join(file).is_file()) {
        npm_ci(&client);
    }
    for (key, file, package) in builds {
        let path = modules.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        println!("cargo:rustc-env=VEGALAKE_{key}_JS={}", path.display());
        println!("cargo:rustc-env=VEGALAKE_{key}_VERSION={}", version(&modules.join(package).join("package.json")));
    }
}

fn npm_ci(client: &PathBuf) {
    let status = Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(client).status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("`npm ci` in {} failed ({s}): the renderer embeds vega from there", client.display()),
        Err(e) => panic!("cannot run npm (needed once, to install vega into {}): {e}", client.display()),
    }
}

/// The `"version"` of a package.json (the first one: npm writes it near the top).
fn version(package_json: &Path) -> String {
    let text = std::fs::read_to_string(package_json).unwrap_or_else(|e| panic!("cannot read {}: {e}", package_json.display()));
    let start = text.find("\"version\"").and_then(|i| text[i + 9..].find('"').map(|j| i + 9 + j + 1));
    let start = start.unwrap_or_else(|| panic!("{}: no version", package_json.display()));
    text[start..].split('"').next().unwrap_or_default().to_string()
}
