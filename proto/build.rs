//! Compiles vegalake/v1/service.proto (needs `protoc`: Debian's protobuf-compiler).
fn main() {
    println!("cargo:rerun-if-changed=vegalake/v1/service.proto");
    if let Err(e) = tonic_prost_build::configure().compile_protos(&["vegalake/v1/service.proto"], &["."]) {
        panic!("compiling vegalake/v1/service.proto (protoc is Debian's protobuf-compiler): {e}");
    }
}
