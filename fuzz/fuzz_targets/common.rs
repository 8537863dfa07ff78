//! What every target shares: the test key pair and the verifier built from
//! it once, and the generators of `extdb_testkit::generate` (so the property
//! tests and the fuzzers use one description of inputs).
#![allow(dead_code)]

use std::sync::OnceLock;

use extdb_auth::{KeyConfig, RequestSigner, V3AuthConfig, V3Verifier};
use extdb_protocol::error::ApiError;
use extdb_contract::pb;

pub use extdb_testkit::generate as prop_support;

pub const AUDIENCE: &str = "fuzz-audience";
/// A fixed "now", so a token's verdict depends only on its bytes.
pub const NOW: u64 = 1_750_000_000;

const PUBLIC_PEM: &str = include_str!("../../crates/testkit/keys/test-only-ec-p256-a.public.pem");
const PRIVATE_PEM: &str = include_str!("../../crates/testkit/keys/test-only-ec-p256-a.private.pem");

pub fn verifier() -> &'static V3Verifier {
    static VERIFIER: OnceLock<V3Verifier> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        V3Verifier::new(&V3AuthConfig {
            keys: vec![KeyConfig {
                public_key: Some(PUBLIC_PEM.to_owned()),
                ..Default::default()
            }],
            audiences: vec![AUDIENCE.into()],
            ..Default::default()
        })
        .expect("the test key loads")
    })
}

pub fn signer() -> &'static RequestSigner {
    static SIGNER: OnceLock<RequestSigner> = OnceLock::new();
    SIGNER.get_or_init(|| RequestSigner::from_pem(PRIVATE_PEM).expect("the test key loads"))
}

pub fn context() -> pb::CallContext {
    pb::CallContext {
        request_id: "fuzz".into(),
        ..Default::default()
    }
}

/// A client's input may be refused, never answered 5xx.
pub fn assert_client_error(what: &str, error: &ApiError) {
    assert!(
        error.http_status() < 500,
        "{what}: {} {}",
        error.http_status(),
        error
    );
}

/// A reference store on a temp file with the every-type collection and a
/// few items, and the runtime to call it on; made once per fuzzing process.
pub struct StoreFixture {
    pub runtime: tokio::runtime::Runtime,
    pub store: extdb_store::ReferenceStore,
    _dir: tempfile::TempDir,
}

pub fn store_fixture() -> &'static StoreFixture {
    static FIXTURE: OnceLock<StoreFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("temp dir");
        let store = runtime.block_on(prop_support::seeded_store(dir.path()));
        StoreFixture {
            runtime,
            store,
            _dir: dir,
        }
    })
}
