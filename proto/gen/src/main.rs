//! Writes `proto/src/generated/vegalake.v1.rs` from `proto/vegalake/v1/service.proto`
//! (needs protoc: Debian's protobuf-compiler):
//!
//!     cargo run -p vegalake-proto-gen
//!
//! The code is committed so that building vegalake needs no protoc; this crate's
//! test fails when the committed code is not the .proto's.

use std::path::{Path, PathBuf};

fn proto_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("proto/gen is inside proto/").to_path_buf()
}

fn committed_path() -> PathBuf {
    proto_dir().join("src/generated/vegalake.v1.rs")
}

/// The code tonic generates from the .proto today.
fn generate() -> Result<String, String> {
    let proto = proto_dir();
    let out = std::env::temp_dir().join(format!("vegalake-proto-gen-{}", std::process::id()));
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let compiled = tonic_prost_build::configure().out_dir(&out).compile_protos(&[proto.join("vegalake/v1/service.proto")], &[proto]);
    let code = compiled.and_then(|()| std::fs::read_to_string(out.join("vegalake.v1.rs")));
    let _ = std::fs::remove_dir_all(&out);
    code.map_err(|e| format!("compiling vegalake/v1/service.proto (protoc is Debian's protobuf-compiler): {e}"))
}

fn main() {
    let written = generate().and_then(|code| std::fs::write(committed_path(), code).map_err(|e| format!("{}: {e}", committed_path().display())));
    if let Err(message) = written {
        eprintln!("error: {message}");
        std::process::exit(1);
    }
    eprintln!("wrote {}", committed_path().display());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_code_is_generated_from_the_proto() {
        let generated = generate().unwrap_or_else(|e| panic!("{e}"));
        let committed = std::fs::read_to_string(committed_path()).unwrap_or_default();
        assert!(committed == generated, "{} is not the code of the .proto: run `cargo run -p vegalake-proto-gen`", committed_path().display());
    }
}
