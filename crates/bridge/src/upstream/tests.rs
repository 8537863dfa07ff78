use super::*;

fn client() -> UpstreamClient {
    let config = UpstreamConfig::grpc("http://127.0.0.1:1");
    let metrics = Arc::new(Metrics::new(Default::default()));
    UpstreamClient::new("store", "http://127.0.0.1:1", &config, metrics).unwrap()
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

fn reset() -> tonic::Status {
    tonic::Status::from_error(Box::new(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "connection reset by peer",
    )))
}

fn calm() -> tonic::Status {
    tonic::Status::from_error(Box::new(h2::Error::from(h2::Reason::ENHANCE_YOUR_CALM)))
}

/// Runs one `unary` call whose attempts answer from `script` in order;
/// returns the outcome and how many attempts were made.
async fn run_unary(
    idempotent: bool,
    script: Vec<Result<(), tonic::Status>>,
) -> (Result<(), ApiError>, usize) {
    let script = std::sync::Mutex::new(std::collections::VecDeque::from(script));
    let attempts = std::sync::atomic::AtomicUsize::new(0);
    let outcome = client()
        .unary(
            "QueryItems",
            (),
            idempotent,
            &MetadataMap::new(),
            Some("books"),
            |_client, _request: tonic::Request<()>| {
                attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let next = script
                    .lock()
                    .ok()
                    .and_then(|mut s| s.pop_front())
                    .unwrap_or(Ok(()));
                std::future::ready(next.map(tonic::Response::new))
            },
        )
        .await;
    (outcome, attempts.into_inner())
}

#[tokio::test]
async fn a_read_lost_in_transport_is_tried_once_more() {
    let (outcome, attempts) = run_unary(true, vec![Err(reset()), Ok(())]).await;
    assert_eq!((outcome, attempts), (Ok(()), 2));
    let (outcome, attempts) = run_unary(true, vec![Err(reset()), Err(reset())]).await;
    assert_eq!(attempts, 2, "once more, not again and again");
    assert_eq!(
        outcome.map_err(|e| e.error_code().to_owned()),
        Err("SERVICE_UNAVAILABLE".to_owned())
    );
}

#[tokio::test]
async fn a_write_is_never_repeated() {
    let (outcome, attempts) = run_unary(false, vec![Err(reset()), Ok(())]).await;
    assert_eq!(attempts, 1);
    assert_eq!(
        outcome.map_err(|e| e.http_status()),
        Err(503),
        "reported, not silently done twice"
    );
}

#[tokio::test]
async fn a_read_is_not_repeated_after_calm_down_or_a_backend_answer() {
    for status in [calm(), tonic::Status::unavailable("draining")] {
        let (outcome, attempts) = run_unary(true, vec![Err(status.clone()), Ok(())]).await;
        assert_eq!(attempts, 1, "{status:?}");
        assert_eq!(outcome.map_err(|e| e.http_status()), Err(503), "{status:?}");
    }
}

#[tokio::test]
async fn a_panicking_in_process_call_answers_internal_for_that_call_only() {
    let panicking = async {
        if metadata_value("x").is_empty() {
            return Ok(tonic::Response::new(()));
        }
        panic!("the store hit a bug");
    };
    let status = local::contained(panicking).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::Internal);
    assert!(
        status.message().contains("panicked"),
        "{}",
        status.message()
    );
    // The same path answers normally when the service does.
    let fine = local::contained(async { Ok(tonic::Response::new(7)) }).await;
    assert_eq!(fine.unwrap().into_inner(), 7);
}

fn count_books() -> Operation {
    Operation::CountItems(pb::CountItemsRequest {
        collection_id: "books".into(),
        ..Default::default()
    })
}

/// `http.runtime: per_core`: a serving thread's copy of a remote upstream
/// is a connection of its own, driven by that thread's runtime, while the
/// original keeps reusing its one connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_for_another_runtime_calls_on_a_connection_of_its_own() {
    use extdb_testkit::backend::ScriptedBackend;
    let backend = ScriptedBackend::start().await;
    for total_count in 1..=3 {
        backend.answer(Reply::Count(pb::CountItemsResponse { total_count }));
    }
    let config = UpstreamConfig::grpc(&backend.endpoint());
    let metrics = Arc::new(Metrics::new(Default::default()));
    let client = UpstreamClient::new("store", &backend.endpoint(), &config, metrics).unwrap();
    for _ in 0..2 {
        client.call(count_books(), None).await.unwrap();
    }
    // Waited for off the test's runtime, which serves the backend.
    let copy = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move { client.for_this_runtime().call(count_books(), None).await })
    })
    .await
    .unwrap();
    assert!(
        matches!(
            copy,
            Ok(Reply::Count(pb::CountItemsResponse { total_count: 3 }))
        ),
        "{copy:?}"
    );
    let peers: Vec<_> = backend.received().iter().map(|r| r.peer).collect();
    assert!(peers.iter().all(Option::is_some), "{peers:?}");
    assert_eq!(peers[0], peers[1], "one client, one connection");
    assert_ne!(peers[1], peers[2], "the copy connected on its own");
}
