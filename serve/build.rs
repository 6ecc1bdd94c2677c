//! Embeds the browser client's bundle (`client/dist/vegalake-client.js`, the one
//! client of the widget and the dashboards), building it when missing.

use std::path::Path;
use std::process::Command;

fn run(dir: &Path, args: &[&str]) {
    match Command::new("npm").args(args).current_dir(dir).status() {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("`npm {}` in {} failed ({s})", args.join(" "), dir.display()),
        Err(e) => panic!("cannot run npm (needed once, to build the browser client in {}): {e}", dir.display()),
    }
}

fn main() {
    // Read when the script runs, not baked in when it compiles: one target
    // directory serves several clones, and a script compiled in one of them
    // reads the client of the clone that builds now.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let client = Path::new(&manifest).join("../client");
    let bundle = client.join("dist/vegalake-client.js");
    println!("cargo:rerun-if-changed={}", client.join("src").display());
    println!("cargo:rerun-if-changed={}", client.join("package-lock.json").display());
    println!("cargo:rerun-if-changed={}", bundle.display());
    if !bundle.is_file() {
        if !client.join("node_modules").is_dir() {
            run(&client, &["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
        }
        run(&client, &["run", "--silent", "build"]);
    }
    println!("cargo:rustc-env=VEGALAKE_CLIENT_BUNDLE={}", bundle.canonicalize().unwrap_or(bundle).display());
}
