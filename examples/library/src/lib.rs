//! An example "existing service": an in-memory implementation of
//! `library.v1` (`proto/library/v1/library.proto`), the resource-oriented
//! gRPC API a backend team already has, written strictly to Google's AIPs
//! and knowing nothing about Wix. The `kind: aip` upstream is tested and
//! demonstrated against it.
//!
//! [`RunningLibrary::start`] serves BookService, ShelfService, gRPC health
//! and server reflection on 127.0.0.1 (an ephemeral port by default), and
//! lets tests seed data, read every call and inject faults.

pub mod pb {
    //! `library.v1`, generated (client and server).
    tonic::include_proto!("library.v1");
}

/// The encoded `FileDescriptorSet` of `library.v1` with every import (what
/// `buf build --include_imports` gives).
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/library_descriptor.bin"));

mod books;
mod error;
mod fields;
mod filter;
mod names;
mod order;
mod paging;
mod recorder;
mod seed;
mod server;
mod shelves;
mod store;

pub use error::LibraryError;
pub use recorder::{CallRequest, Fault, RecordedCall};
pub use server::{LibraryOptions, Reflection, RunningLibrary};
