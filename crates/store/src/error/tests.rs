use std::io::Write;
use std::sync::{Arc, Mutex};

#[test]
fn statuses_echoing_caller_text_stay_small_enough_for_trailers() {
    let long = "f\u{e9}".repeat(50_000);
    let errors = [
        StoreError::bad_request(format!("unknown field {long}")),
        StoreError::FieldDoesntExist {
            collection_id: long.clone(),
            property_name: long.clone(),
        },
        StoreError::Validation {
            message: long.clone(),
            problems: (0..1000)
                .map(|_| super::FieldProblem {
                    field: long.clone(),
                    message: long.clone(),
                })
                .collect(),
        },
    ];
    for error in errors {
        let status = tonic::Status::from(error);
        let size = status.message().len() + status.details().len();
        assert!(size < 8 * 1024, "{size} bytes");
    }
    assert_eq!(super::clip("é", 1), "…");
    assert_eq!(super::clip("ab", 2), "ab");
}

use super::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn logged_failures_cannot_forge_log_lines() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let status = tracing::subscriber::with_default(subscriber, || {
        Status::from(StoreError::Internal(
            "bad path \"a\nERROR forged line\u{1b}[31m\"".to_owned(),
        ))
    });
    assert_eq!(status.message(), "internal store error");
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.contains("\\nERROR forged line"), "{log}");
    assert!(!log.contains('\u{1b}'), "{log}");
}
