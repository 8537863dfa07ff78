use super::*;

fn client() -> UpstreamClient {
    let config: UpstreamConfig =
        serde_json::from_value(serde_json::json!({"endpoint": "http://127.0.0.1:1"})).unwrap();
    let metrics = Arc::new(Metrics::new(Default::default()));
    UpstreamClient::new("store", "http://127.0.0.1:1", &config, metrics).unwrap()
}

fn translated(status: tonic::Status) -> (u16, String) {
    let e = client().translate(&status, Some("books"), "QueryItems");
    (e.http_status(), e.error_code().to_owned())
}

#[tokio::test]
async fn transport_failures_are_503_whatever_their_code() {
    // What tonic makes of a reset connection (Unknown "transport error")
    // and of an h2 GOAWAY ENHANCE_YOUR_CALM (ResourceExhausted): both carry
    // the underlying error as their source.
    let reset = tonic::Status::from_error(Box::new(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "connection reset by peer",
    )));
    assert!(is_transport_failure(&reset));
    assert_eq!(translated(reset), (503, "SERVICE_UNAVAILABLE".into()));
    let mut calm = tonic::Status::resource_exhausted("h2 protocol error: http2 error");
    assert_eq!(translated(calm.clone()), (429, "RESOURCE_EXHAUSTED".into()));
    calm = tonic::Status::from_error(Box::new(tonic::Status::resource_exhausted("x")));
    // A status passed as the error is the backend's own status again.
    assert_eq!(translated(calm), (429, "RESOURCE_EXHAUSTED".into()));
}

/// Our own encoder refusing an oversized request reaches us wrapped (a
/// status inside another error): the size error, not a transport failure.
#[tokio::test]
async fn a_status_inside_the_error_chain_is_not_transport() {
    #[derive(Debug)]
    struct Wrapper(tonic::Status);
    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "body error")
        }
    }
    impl std::error::Error for Wrapper {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    let wrapped = tonic::Status::from_error(Box::new(Wrapper(tonic::Status::out_of_range(
        "Error, encoded message length too large: found 70000000 bytes, the limit is: 67108864 bytes",
    ))));
    assert!(std::error::Error::source(&wrapped).is_some());
    assert!(!is_transport_failure(&wrapped));
    assert_eq!(translated(wrapped), (400, "BAD_REQUEST".into()));
}

#[tokio::test]
async fn deadlines_and_message_sizes_are_named() {
    let expired = tonic::Status::cancelled("Timeout expired");
    assert!(!is_transport_failure(&expired));
    assert_eq!(translated(expired), (504, "TIMEOUT".into()));
    let too_large = tonic::Status::out_of_range(
        "Error, decoded message length too large: found 70000000 bytes, the limit is: 67108864 bytes",
    );
    let e = client().translate(&too_large, Some("books"), "QueryItems");
    assert_eq!((e.http_status(), e.error_code()), (400, "BAD_REQUEST"));
    assert!(e.to_string().contains("67108864-byte limit"), "{e}");
    assert!(!e.to_string().contains("decoded"), "no gRPC internals: {e}");
}

#[test]
fn long_metadata_values_become_digests() {
    assert_eq!(metadata_value("req-1"), "req-1");
    let long = "r".repeat(MAX_METADATA_VALUE_BYTES + 1);
    let digest = metadata_value(&long);
    assert!(
        digest.starts_with("sha256:") && digest.len() == 7 + 64,
        "{digest}"
    );
    assert_eq!(
        metadata_value(&long),
        digest,
        "stable, so backends can correlate"
    );
}

#[test]
fn a_backend_asking_to_calm_down_is_not_retried() {
    let calm = tonic::Status::from_error(Box::new(h2::Error::from(h2::Reason::ENHANCE_YOUR_CALM)));
    assert!(is_transport_failure(&calm));
    assert!(asks_to_calm_down(&calm));
    let refused = tonic::Status::from_error(Box::new(h2::Error::from(h2::Reason::REFUSED_STREAM)));
    assert!(is_transport_failure(&refused));
    assert!(!asks_to_calm_down(&refused));
}
