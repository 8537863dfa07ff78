//! Loading the backend API's descriptors, once, at start-up, from one of
//! three sources: the backend itself (gRPC server reflection), a
//! `FileDescriptorSet` file, or `.proto` files compiled here (protox). The
//! result is pinned for the life of the process; its digest is logged so
//! operators can tell which API version a sidecar mapped.
//!
//! Every source ends as `FileDescriptorSet` bytes decoded by
//! `DescriptorPool::decode`, which keeps custom options
//! (`google.api.resource`, `google.api.field_behavior`) that prost-types'
//! structs would drop.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;

use prost_reflect::DescriptorPool;
use tonic::transport::Channel;

use crate::config::DescriptorSourceConfig;

mod reflection;

/// Most files a reflection walk fetches: a guard against a server that
/// keeps naming new dependencies.
const MAX_REFLECTED_FILES: usize = 1000;

/// The backend API's descriptors, as loaded.
#[derive(Debug, Clone)]
pub struct Descriptors {
    pub pool: DescriptorPool,
    /// SHA-256 of the files (name and bytes, sorted by name), hex.
    pub digest: String,
    /// Where they came from, for logs.
    pub source: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DescriptorError {
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: std::io::Error },
    #[error("cannot compile the .proto files: {0}")]
    Compile(String),
    #[error("the descriptors do not form a valid set: {0}")]
    Invalid(String),
    #[error("server reflection failed: {0}")]
    Reflection(String),
}

/// Loads the descriptors from the configured source. `channel` reaches the
/// backend (used by reflection only, which fetches the files of `services`,
/// or of every service the backend lists when it is empty).
pub async fn load_descriptors(
    source: &DescriptorSourceConfig,
    channel: Channel,
    services: &[String],
) -> Result<Descriptors, DescriptorError> {
    if let Some(path) = &source.descriptor_set {
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|error| DescriptorError::Read {
                path: path.display().to_string(),
                error,
            })?;
        let files = split_file_descriptor_set(&bytes)?;
        return decode(files, format!("descriptor_set {}", path.display()));
    }
    if let Some(proto) = &source.proto {
        let bytes = compile_protos(&proto.include, &proto.files)?;
        let files = split_file_descriptor_set(&bytes)?;
        return decode(
            files,
            format!("{} compiled .proto file(s)", proto.files.len()),
        );
    }
    let (files, version) = reflection::fetch_files(channel, services, MAX_REFLECTED_FILES).await?;
    decode(files, format!("server reflection ({version})"))
}

/// Compiles `.proto` files with protox into `FileDescriptorSet` bytes
/// (imports included, options kept).
pub fn compile_protos(
    include: &[impl AsRef<Path>],
    files: &[impl AsRef<Path>],
) -> Result<Vec<u8>, DescriptorError> {
    let compile = |e: protox::Error| DescriptorError::Compile(e.to_string());
    let mut compiler = protox::Compiler::new(include).map_err(compile)?;
    compiler.include_imports(true).include_source_info(false);
    compiler.open_files(files).map_err(compile)?;
    Ok(compiler.encode_file_descriptor_set())
}

/// The raw bytes of each `FileDescriptorProto` in a set, by file name.
fn split_file_descriptor_set(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, DescriptorError> {
    use prost::Message;
    use prost::encoding::{WireType, decode_key, decode_varint};
    let invalid = |e: prost::DecodeError| DescriptorError::Invalid(e.to_string());
    let mut files = BTreeMap::new();
    let mut buf = bytes;
    while !buf.is_empty() {
        let (tag, wire_type) = decode_key(&mut buf).map_err(invalid)?;
        if tag != 1 || wire_type != WireType::LengthDelimited {
            return Err(DescriptorError::Invalid(format!(
                "unexpected field {tag} in a FileDescriptorSet"
            )));
        }
        let len = decode_varint(&mut buf).map_err(invalid)? as usize;
        if len > buf.len() {
            return Err(DescriptorError::Invalid(
                "truncated FileDescriptorSet".into(),
            ));
        }
        let (file, rest) = buf.split_at(len);
        buf = rest;
        let proto = prost_types::FileDescriptorProto::decode(file).map_err(invalid)?;
        files.insert(proto.name().to_owned(), file.to_vec());
    }
    Ok(files)
}

/// Decodes files (by name) into one pool and computes their digest.
fn decode(
    files: BTreeMap<String, Vec<u8>>,
    source: String,
) -> Result<Descriptors, DescriptorError> {
    let mut set = Vec::new();
    let mut digest = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    for (name, bytes) in &files {
        prost::encoding::encode_key(1, prost::encoding::WireType::LengthDelimited, &mut set);
        prost::encoding::encode_varint(bytes.len() as u64, &mut set);
        set.extend_from_slice(bytes);
        for part in [
            name.as_bytes(),
            &[0],
            &(bytes.len() as u64).to_be_bytes(),
            bytes,
        ] {
            digest.update(part);
        }
    }
    let pool = DescriptorPool::decode(set.as_slice())
        .map_err(|e| DescriptorError::Invalid(e.to_string()))?;
    let digest = digest
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Descriptors {
        pool,
        digest,
        source,
    })
}

/// Names of the files `file` imports, from its raw bytes.
fn dependencies(file: &[u8]) -> Result<Vec<String>, DescriptorError> {
    use prost::Message;
    let proto = prost_types::FileDescriptorProto::decode(file)
        .map_err(|e| DescriptorError::Invalid(e.to_string()))?;
    Ok(proto.dependency)
}

/// Breadth-first closure over imports: `fetch` is asked for each file name
/// not yet known.
async fn close_over_imports<F, Fut>(
    mut files: BTreeMap<String, Vec<u8>>,
    max_files: usize,
    mut fetch: F,
) -> Result<BTreeMap<String, Vec<u8>>, DescriptorError>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<(String, Vec<u8>)>, DescriptorError>>,
{
    let mut wanted: VecDeque<String> = VecDeque::new();
    for bytes in files.values() {
        wanted.extend(dependencies(bytes)?);
    }
    while let Some(name) = wanted.pop_front() {
        if files.contains_key(&name) {
            continue;
        }
        if files.len() >= max_files {
            return Err(DescriptorError::Reflection(format!(
                "more than {max_files} files: stopped"
            )));
        }
        let fetched = fetch(name.clone()).await?;
        if !fetched.iter().any(|(n, _)| *n == name) {
            return Err(DescriptorError::Reflection(format!(
                "the server did not return {name}"
            )));
        }
        for (file, bytes) in fetched {
            wanted.extend(dependencies(&bytes)?);
            files.entry(file).or_insert(bytes);
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests;
