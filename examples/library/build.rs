//! Compiles `proto/library/v1/library.proto` with protox (pure Rust, no
//! system `protoc`) into the tonic client and server, and writes the
//! encoded `FileDescriptorSet` with every import (what `buf build
//! --include_imports` gives) for server reflection and for callers that
//! load descriptors from a file.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("proto");
    let file = root.join("library/v1/library.proto");
    for dep in [
        file.clone(),
        root.join("google/api/field_behavior.proto"),
        root.join("google/api/resource.proto"),
    ] {
        println!("cargo:rerun-if-changed={}", dep.display());
    }
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let mut compiler = protox::Compiler::new([&root])?;
    // Every transitive import (google/api, google/protobuf), in dependency
    // order; source info (comments) for the generated docs.
    compiler
        .include_imports(true)
        .include_source_info(true)
        .open_files([&file])?;
    let descriptors = compiler.file_descriptor_set();
    // Encoded by protox itself: going through prost_types would drop the
    // custom options (google.api.resource, google.api.field_behavior),
    // which are what reflection clients read. No source info, like
    // `buf build --include_imports`.
    compiler.include_source_info(false);
    std::fs::write(
        out.join("library_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;
    tonic_prost_build::configure()
        .out_dir(&out)
        .build_client(true)
        .build_server(true)
        // No `connect()` helper: callers build a channel and use `new`.
        .build_transport(false)
        .compile_fds(descriptors)?;
    Ok(())
}
