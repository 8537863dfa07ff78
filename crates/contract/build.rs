//! Compiles the upstream contract in `proto/` with a pure-Rust protobuf
//! compiler (protox), so building needs no system `protoc`. Two outputs:
//! messages only, and messages plus the tonic client and server (feature
//! `grpc`), so a crate that only reads the types links no tonic. Also
//! lists the service's methods for the per-RPC table's tests.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    const PROTOS: &[&str] = &[
        "extdb/v1/values.proto",
        "extdb/v1/query.proto",
        "extdb/v1/schema.proto",
        "extdb/v1/service.proto",
    ];
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let files: Vec<PathBuf> = PROTOS.iter().map(|p| root.join(p)).collect();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let grpc = std::env::var_os("CARGO_FEATURE_GRPC").is_some();
    let dir = out.join(if grpc { "grpc" } else { "messages" });
    std::fs::create_dir_all(&dir)?;
    let descriptors = protox::compile(&files, [&root])?;
    // The service's methods as the proto declares them, for the test that
    // the per-RPC table (src/rpc.rs) has exactly one row for each.
    let mut methods = String::from("&[\n");
    for service in descriptors.file.iter().flat_map(|f| &f.service) {
        for m in &service.method {
            let short = |t: &Option<String>| {
                let t = t.as_deref().unwrap_or_default();
                t.rsplit('.').next().unwrap_or(t).to_owned()
            };
            methods.push_str(&format!(
                "    ({:?}, {:?}, {:?}, {:?}),\n",
                service.name(),
                m.name(),
                short(&m.input_type),
                short(&m.output_type),
            ));
        }
    }
    methods.push_str("]\n");
    std::fs::write(out.join("service_methods.rs"), methods)?;
    // Every message's top-level field names, so those tests can check each
    // row's facts (collection id, paging) against the proto, not the table.
    let mut fields = String::from("&[\n");
    for message in descriptors.file.iter().flat_map(|f| &f.message_type) {
        let names: Vec<&str> = message.field.iter().map(|f| f.name()).collect();
        fields.push_str(&format!("    ({:?}, &{:?}),\n", message.name(), names));
    }
    fields.push_str("]\n");
    std::fs::write(out.join("message_fields.rs"), fields)?;
    tonic_prost_build::configure()
        .out_dir(&dir)
        .build_client(grpc)
        .build_server(grpc)
        // No `connect()` helper: it would need tonic's transport; callers
        // build a channel and use `new`.
        .build_transport(false)
        // Deterministic field order in items: JSON output is stable.
        .btree_map(".")
        // A backend may implement only part of the service: the generated
        // server trait answers UNIMPLEMENTED for methods it leaves out.
        .generate_default_stubs(true)
        .compile_fds(descriptors)?;
    Ok(())
}
