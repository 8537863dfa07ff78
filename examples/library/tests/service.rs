//! The service around the methods: descriptors, reflection, health,
//! recorded calls, faults, ShelfService, stopping, and the binary.

mod support;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use extdb_example_library::pb::{
    CreateBookRequest, CreateShelfRequest, DeleteShelfRequest, GetBookRequest, GetShelfRequest,
    ListBooksRequest, ListShelvesRequest, Shelf,
};
use extdb_example_library::{
    CallRequest, FILE_DESCRIPTOR_SET, Fault, LibraryOptions, Reflection, RunningLibrary,
};
use prost::Message as _;
use prost_reflect::{DescriptorPool, Value};
use tonic::Code;
use tonic::transport::Channel;

#[test]
fn the_descriptor_set_has_every_import_and_the_custom_options() {
    let set = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).expect("decode");
    let files: Vec<&str> = set.file.iter().map(|f| f.name()).collect();
    for expected in [
        "google/protobuf/descriptor.proto",
        "google/api/field_behavior.proto",
        "google/api/resource.proto",
        "google/protobuf/timestamp.proto",
        "google/protobuf/struct.proto",
        "google/protobuf/field_mask.proto",
        "google/protobuf/empty.proto",
        "library/v1/library.proto",
    ] {
        assert!(files.contains(&expected), "{expected} missing: {files:?}");
    }
    assert_eq!(files.last(), Some(&"library/v1/library.proto"));
    // The options a client maps from survive encoding.
    let pool = DescriptorPool::decode(FILE_DESCRIPTOR_SET).expect("pool");
    let book = pool.get_message_by_name("library.v1.Book").expect("Book");
    let resource = pool
        .get_extension_by_name("google.api.resource")
        .expect("resource extension");
    let options = book.options();
    let Value::Message(descriptor) = options.get_extension(&resource).into_owned() else {
        panic!("no google.api.resource on Book");
    };
    assert_eq!(
        descriptor.get_field_by_name("type").expect("type").as_str(),
        Some("library.example.com/Book")
    );
    let behavior = pool
        .get_extension_by_name("google.api.field_behavior")
        .expect("field_behavior extension");
    let etag = book.get_field_by_name("etag").expect("etag");
    assert_eq!(
        etag.options().get_extension(&behavior).into_owned(),
        Value::List(vec![Value::EnumNumber(3)]),
        "etag is OUTPUT_ONLY"
    );
}

async fn v1_symbol(
    channel: Channel,
    symbol: &str,
) -> Result<Vec<(String, Vec<u8>)>, tonic::Status> {
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    v1_ask(channel, MessageRequest::FileContainingSymbol(symbol.into())).await
}

async fn v1_ask(
    channel: Channel,
    ask: tonic_reflection::pb::v1::server_reflection_request::MessageRequest,
) -> Result<Vec<(String, Vec<u8>)>, tonic::Status> {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(ask),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await?
        .into_inner();
    let response = stream.message().await?.expect("a response");
    match response.message_response {
        Some(MessageResponse::FileDescriptorResponse(files)) => Ok(files
            .file_descriptor_proto
            .iter()
            .map(|f| {
                let name = prost_types::FileDescriptorProto::decode(f.as_slice())
                    .expect("file")
                    .name()
                    .to_owned();
                (name, f.clone())
            })
            .collect()),
        other => panic!("unexpected {other:?}"),
    }
}

async fn v1alpha_symbol(
    channel: Channel,
    symbol: &str,
) -> Result<Vec<(String, Vec<u8>)>, tonic::Status> {
    use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol(symbol.into())),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await?
        .into_inner();
    let response = stream.message().await?.expect("a response");
    match response.message_response {
        Some(MessageResponse::FileDescriptorResponse(files)) => Ok(files
            .file_descriptor_proto
            .iter()
            .map(|f| {
                let name = prost_types::FileDescriptorProto::decode(f.as_slice())
                    .expect("file")
                    .name()
                    .to_owned();
                (name, f.clone())
            })
            .collect()),
        other => panic!("unexpected {other:?}"),
    }
}

fn file_names(files: &[(String, Vec<u8>)]) -> Vec<String> {
    files.iter().map(|(name, _)| name.clone()).collect()
}

#[tokio::test]
async fn reflection_answers_per_option() {
    let expected = vec!["library/v1/library.proto".to_owned()];
    for (option, v1, v1alpha) in [
        (Reflection::Both, true, true),
        (Reflection::V1, true, false),
        (Reflection::V1Alpha, false, true),
        (Reflection::None, false, false),
    ] {
        let library = support::start(LibraryOptions {
            reflection: option,
            ..LibraryOptions::default()
        })
        .await;
        let channel = support::channel(&library).await;
        let got = v1_symbol(channel.clone(), "library.v1.BookService").await;
        if v1 {
            let files = got.expect("v1");
            assert_eq!(file_names(&files), expected, "{option:?}");
            // Served as encoded, so the custom options a client maps from
            // (google.api.resource's type) are there.
            let raw = &files[0].1;
            let needle = b"library.example.com/Book";
            assert!(
                raw.windows(needle.len()).any(|w| w == needle),
                "google.api.resource lost in reflection"
            );
            // Its imports are there by file name, for clients that fetch
            // dependencies one file at a time.
            for dependency in [
                "google/api/field_behavior.proto",
                "google/api/resource.proto",
                "google/protobuf/timestamp.proto",
                "google/protobuf/descriptor.proto",
            ] {
                use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
                let files = v1_ask(
                    channel.clone(),
                    MessageRequest::FileByFilename(dependency.into()),
                )
                .await
                .expect(dependency);
                assert_eq!(file_names(&files), [dependency]);
            }
        } else {
            assert_eq!(got.expect_err("no v1").code(), Code::Unimplemented);
        }
        let got = v1alpha_symbol(channel, "library.v1.BookService").await;
        if v1alpha {
            assert_eq!(file_names(&got.expect("v1alpha")), expected, "{option:?}");
        } else {
            assert_eq!(got.expect_err("no v1alpha").code(), Code::Unimplemented);
        }
        library.stop().await;
    }
}

#[tokio::test]
async fn health_follows_set_serving() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    let library = support::start(LibraryOptions::default()).await;
    let mut client = HealthClient::new(support::channel(&library).await);
    let status = |service: &str| HealthCheckRequest {
        service: service.into(),
    };
    for service in ["", "library.v1.BookService", "library.v1.ShelfService"] {
        let got = client.check(status(service)).await.expect("check");
        assert_eq!(got.into_inner().status, ServingStatus::Serving as i32);
    }
    library.set_serving(false).await;
    for service in ["", "library.v1.BookService"] {
        let got = client.check(status(service)).await.expect("check");
        assert_eq!(got.into_inner().status, ServingStatus::NotServing as i32);
    }
    library.set_serving(true).await;
    let got = client.check(status("")).await.expect("check");
    assert_eq!(got.into_inner().status, ServingStatus::Serving as i32);
    library.stop().await;
}

#[tokio::test]
async fn calls_are_recorded_in_order_with_metadata() {
    let library = support::seeded(3).await;
    let mut client = support::books(&library).await;
    let mut request = tonic::Request::new(GetBookRequest {
        name: "shelves/main/books/book-0002".into(),
    });
    request
        .metadata_mut()
        .insert("x-wix-request-id", "req-42".parse().expect("ascii"));
    client.get_book(request).await.expect("get");
    client
        .list_books(support::list("shelves/main"))
        .await
        .expect("list");
    client
        .get_book(GetBookRequest { name: "bad".into() })
        .await
        .expect_err("bad name");
    let calls = library.calls();
    let methods: Vec<&str> = calls.iter().map(|c| c.method.as_str()).collect();
    assert_eq!(
        methods,
        [
            "/library.v1.BookService/GetBook",
            "/library.v1.BookService/ListBooks",
            "/library.v1.BookService/GetBook",
        ]
    );
    assert_eq!(calls[0].method_name(), "GetBook");
    assert_eq!(
        calls[0]
            .metadata
            .get("x-wix-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("req-42")
    );
    assert_eq!(
        calls[0].request,
        CallRequest::GetBook(GetBookRequest {
            name: "shelves/main/books/book-0002".into()
        })
    );
    assert!(matches!(&calls[1].request, CallRequest::ListBooks(r) if r.parent == "shelves/main"));
    library.clear_calls();
    assert!(library.calls().is_empty());
    let mut shelves = support::shelves(&library).await;
    shelves
        .list_shelves(ListShelvesRequest::default())
        .await
        .expect("shelves");
    assert_eq!(
        library.calls()[0].method,
        "/library.v1.ShelfService/ListShelves"
    );
    library.stop().await;
}

#[tokio::test]
async fn faults_fail_or_delay_the_chosen_calls() {
    let library = support::seeded(3).await;
    let mut client = support::books(&library).await;
    let get = || GetBookRequest {
        name: "shelves/main/books/book-0001".into(),
    };
    // One method, until cleared; others unaffected.
    library.set_fault(
        Some("GetBook"),
        Fault::Status(Code::Unavailable, "backend down".into()),
    );
    let failed = client.get_book(get()).await.expect_err("fault");
    assert_eq!(failed.code(), Code::Unavailable);
    assert_eq!(failed.message(), "backend down");
    client
        .list_books(support::list("shelves/main"))
        .await
        .expect("ListBooks has no fault");
    assert_eq!(
        client.get_book(get()).await.expect_err("still").code(),
        Code::Unavailable
    );
    library.set_fault(Some("GetBook"), Fault::None);
    client.get_book(get()).await.expect("cleared");

    // Every method, for the next two calls only; faulted calls are still
    // recorded.
    library.clear_calls();
    library.set_fault_times(
        None,
        Fault::Status(Code::ResourceExhausted, "slow down".into()),
        2,
    );
    let first = client
        .list_books(support::list("shelves/main"))
        .await
        .expect_err("first");
    assert_eq!(first.code(), Code::ResourceExhausted);
    assert_eq!(
        client.get_book(get()).await.expect_err("second").code(),
        Code::ResourceExhausted
    );
    client.get_book(get()).await.expect("third passes");
    assert_eq!(library.calls().len(), 3);

    // A delay longer than the caller's deadline: DEADLINE_EXCEEDED; a
    // delay within it: the answer.
    library.set_fault(Some("GetBook"), Fault::Delay(Duration::from_millis(500)));
    let mut hurried = tonic::Request::new(get());
    hurried.set_timeout(Duration::from_millis(50));
    let late = client.get_book(hurried).await.expect_err("deadline");
    // A tonic client enforces its grpc-timeout itself and reports CANCELLED
    // ("Timeout expired"); grpc-go and C++ clients say DEADLINE_EXCEEDED.
    assert!(
        matches!(late.code(), Code::Cancelled | Code::DeadlineExceeded),
        "{late:?}"
    );
    library.set_fault(Some("GetBook"), Fault::Delay(Duration::from_millis(20)));
    let mut patient = tonic::Request::new(get());
    patient.set_timeout(Duration::from_secs(30));
    client.get_book(patient).await.expect("delayed answer");
    library.set_fault(
        Some("GetBook"),
        Fault::DelayThenStatus(Duration::from_millis(20), Code::Internal, "boom".into()),
    );
    let boom = client.get_book(get()).await.expect_err("delay then status");
    assert_eq!(boom.code(), Code::Internal);
    library.stop().await;
}

#[tokio::test]
async fn shelves_page_create_and_refuse_deleting_a_shelf_with_books() {
    let library = support::seeded(2).await;
    let mut shelves = support::shelves(&library).await;
    for id in ["a", "b", "c", "d"] {
        let shelf = shelves
            .create_shelf(CreateShelfRequest {
                shelf: Some(Shelf {
                    theme: format!("theme {id}"),
                    ..Shelf::default()
                }),
                shelf_id: id.into(),
            })
            .await
            .expect("create")
            .into_inner();
        assert_eq!(shelf.name, format!("shelves/{id}"));
        assert!(shelf.create_time.is_some());
    }
    let generated = shelves
        .create_shelf(CreateShelfRequest {
            shelf: Some(Shelf::default()),
            shelf_id: String::new(),
        })
        .await
        .expect("generated id")
        .into_inner();
    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let page = shelves
            .list_shelves(ListShelvesRequest {
                page_size: 2,
                page_token: token,
            })
            .await
            .expect("list")
            .into_inner();
        assert!(page.shelves.len() <= 2);
        names.extend(page.shelves.into_iter().map(|s| s.name));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let mut expected = vec![
        "shelves/a".to_owned(),
        "shelves/b".into(),
        "shelves/c".into(),
        "shelves/d".into(),
        "shelves/main".into(),
        generated.name.clone(),
    ];
    expected.sort();
    assert_eq!(names, expected);
    let garbage = shelves
        .list_shelves(ListShelvesRequest {
            page_size: 2,
            page_token: "garbage".into(),
        })
        .await
        .expect_err("garbage token");
    assert_eq!(garbage.code(), Code::InvalidArgument);
    let got = shelves
        .get_shelf(GetShelfRequest {
            name: "shelves/b".into(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(got.theme, "theme b");
    for (id, code) in [("a", Code::AlreadyExists), ("-x", Code::InvalidArgument)] {
        let refused = shelves
            .create_shelf(CreateShelfRequest {
                shelf: Some(Shelf::default()),
                shelf_id: id.into(),
            })
            .await
            .expect_err(id);
        assert_eq!(refused.code(), code, "{id}");
    }
    let held = shelves
        .delete_shelf(DeleteShelfRequest {
            name: "shelves/main".into(),
        })
        .await
        .expect_err("holds books");
    assert_eq!(held.code(), Code::FailedPrecondition);
    assert!(held.message().contains("2 book"), "{held:?}");
    shelves
        .delete_shelf(DeleteShelfRequest {
            name: "shelves/a".into(),
        })
        .await
        .expect("empty shelf");
    let gone = shelves
        .get_shelf(GetShelfRequest {
            name: "shelves/a".into(),
        })
        .await
        .expect_err("deleted");
    assert_eq!(gone.code(), Code::NotFound);
    let missing = shelves
        .delete_shelf(DeleteShelfRequest {
            name: "shelves/a".into(),
        })
        .await
        .expect_err("missing");
    assert_eq!(missing.code(), Code::NotFound);
    // A book cannot be created on the deleted shelf.
    let mut books = support::books(&library).await;
    let orphan = books
        .create_book(CreateBookRequest {
            parent: "shelves/a".into(),
            book: Some(extdb_example_library::pb::Book {
                title: "Orphan".into(),
                ..Default::default()
            }),
            book_id: String::new(),
            request_id: String::new(),
        })
        .await
        .expect_err("no shelf");
    assert_eq!(orphan.code(), Code::NotFound);
    library.stop().await;
}

#[tokio::test]
async fn stop_releases_the_port() {
    let library = support::seeded(1).await;
    let addr = library.addr();
    let mut client = support::books(&library).await;
    client
        .list_books(support::list("shelves/main"))
        .await
        .expect("serving");
    // The client's connection is closed first, so no socket of the
    // server's side is left on the port; the kernel lets go of it
    // asynchronously, so bind is retried for a bounded while.
    drop(client);
    library.stop().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let listener = loop {
        match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => break listener,
            Err(_) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => panic!("the port is not free 5 s after stop: {e}"),
        }
    };
    drop(listener);
    let again = RunningLibrary::start(LibraryOptions {
        listen: addr,
        ..LibraryOptions::default()
    })
    .await
    .expect("restart on the same port");
    again.stop().await;
}

#[tokio::test]
async fn the_binary_serves_seeded_books_and_stops_on_interrupt_or_terminate() {
    for signal in ["-INT", "-TERM"] {
        run_the_binary_until(signal).await;
    }
}

async fn run_the_binary_until(signal: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_extdb-example-library"))
        .args(["--listen", "127.0.0.1:0", "--seed", "7"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr = loop {
        let line = received
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the binary logs its address");
        if let Some(rest) = line.split("addr=").nth(1) {
            break rest.split_whitespace().next().expect("addr").to_owned();
        }
    };
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let mut client =
        extdb_example_library::pb::book_service_client::BookServiceClient::new(channel.clone());
    let page = client
        .list_books(ListBooksRequest {
            parent: "shelves/main".into(),
            ..ListBooksRequest::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(page.total_size, 7);
    let files = v1_symbol(channel, "library.v1.Book")
        .await
        .expect("reflection");
    assert_eq!(file_names(&files), ["library/v1/library.proto"]);
    drop(client);
    let interrupted = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(interrupted.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the binary did not stop");
        // Not a blocking sleep: the client's connection task must run to
        // answer the server's GOAWAY, or the graceful stop waits for it.
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{signal}: {status:?}");
}
