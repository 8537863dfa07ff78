//! Compiles the upstream contract in `proto/` with a pure-Rust protobuf
//! compiler (protox), so building needs no system `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    const PROTOS: &[&str] = &[
        "proto/extdb/v1/values.proto",
        "proto/extdb/v1/query.proto",
        "proto/extdb/v1/schema.proto",
        "proto/extdb/v1/service.proto",
    ];
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    tonic_prost_build::configure()
        // Deterministic field order in items: JSON output is stable.
        .btree_map(".")
        // A backend may implement only part of the service: the generated
        // server trait answers UNIMPLEMENTED for methods it leaves out.
        .generate_default_stubs(true)
        .compile_fds(descriptors)?;
    Ok(())
}
